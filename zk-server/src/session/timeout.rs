//! Session timeout negotiation (`ZooKeeperServer.processConnectRequest`).

/// The bounds a server puts on the session timeouts clients ask for, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    /// The smallest timeout granted (`minSessionTimeout`).
    pub min: i32,
    /// The largest timeout granted (`maxSessionTimeout`).
    pub max: i32,
}

impl SessionTimeouts {
    /// The bounds from the configured values, where -1 means ZooKeeper's default: 2 × `tick_time` for the
    /// minimum and 20 × `tick_time` for the maximum.
    pub fn new(tick_time: i32, min: i32, max: i32) -> SessionTimeouts {
        SessionTimeouts {
            min: if min == -1 { tick_time.saturating_mul(2) } else { min },
            max: if max == -1 { tick_time.saturating_mul(20) } else { max },
        }
    }

    /// The timeout granted for `requested`: raised to `min`, then lowered to `max` (the order ZooKeeper
    /// applies them, which never panics even if `min > max`).
    pub fn negotiate(&self, requested: i32) -> i32 {
        let mut timeout = requested;
        if timeout < self.min {
            timeout = self.min;
        }
        if timeout > self.max {
            timeout = self.max;
        }
        timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_two_and_twenty_ticks() {
        assert_eq!(SessionTimeouts::new(2000, -1, -1), SessionTimeouts { min: 4000, max: 40000 });
        assert_eq!(SessionTimeouts::new(500, 1000, -1), SessionTimeouts { min: 1000, max: 10000 });
    }

    #[test]
    fn negotiation_clamps() {
        let t = SessionTimeouts::new(2000, -1, -1);
        assert_eq!(t.negotiate(30000), 30000);
        assert_eq!(t.negotiate(1), 4000);
        assert_eq!(t.negotiate(-5), 4000);
        assert_eq!(t.negotiate(i32::MAX), 40000);
        // Inverted bounds (rejected by config validation) still give an answer: the maximum.
        assert_eq!(SessionTimeouts { min: 10, max: 5 }.negotiate(7), 5);
    }
}
