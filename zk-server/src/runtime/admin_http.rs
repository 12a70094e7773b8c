//! The HTTP side of the AdminServer (`/commands`, JSON) and the Prometheus endpoint (`/metrics`).
//! Handlers ask the driver, which owns the core, over a channel.

use std::net::SocketAddr;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use crate::core::admin::ADMIN_COMMANDS;
use crate::core::MetricValue;

/// A question for the driver.
#[derive(Debug)]
pub enum AdminQuery {
    /// Run an admin command (`None`: no such command).
    Command(String, oneshot::Sender<Option<Value>>),
    /// Read every metric.
    Metrics(oneshot::Sender<Vec<(&'static str, MetricValue)>>),
}

type Queries = mpsc::UnboundedSender<AdminQuery>;

async fn ask<T>(queries: &Queries, make: impl FnOnce(oneshot::Sender<T>) -> AdminQuery) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    queries.send(make(tx)).ok()?;
    rx.await.ok()
}

async fn list(State(_): State<Queries>) -> Json<Value> {
    let names: Vec<&str> = ADMIN_COMMANDS.iter().flat_map(|names| names.iter().copied()).collect();
    Json(json!({ "command": "commands", "commands": names, "error": null }))
}

async fn command(State(queries): State<Queries>, Path(name): Path<String>) -> Response {
    match ask(&queries, |tx| AdminQuery::Command(name.clone(), tx)).await {
        Some(Some(body)) => Json(body).into_response(),
        Some(None) => {
            let body = json!({ "command": name, "error": format!("Command not found: {name}") });
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
        None => (StatusCode::SERVICE_UNAVAILABLE, "server is stopping").into_response(),
    }
}

/// Prometheus text exposition of the numeric metrics.
pub fn prometheus_text(metrics: &[(&'static str, MetricValue)]) -> String {
    let mut out = String::new();
    for (name, value) in metrics {
        let number = match value {
            MetricValue::Int(v) => v.to_string(),
            MetricValue::Float(v) => v.to_string(),
            MetricValue::Text(_) => continue,
        };
        out.push_str(&format!("# TYPE {name} gauge\n{name} {number}\n"));
    }
    out
}

async fn metrics(State(queries): State<Queries>) -> Response {
    match ask(&queries, AdminQuery::Metrics).await {
        Some(metrics) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], prometheus_text(&metrics)).into_response()
        }
        None => (StatusCode::SERVICE_UNAVAILABLE, "server is stopping").into_response(),
    }
}

async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    if let Err(err) = axum::serve(listener, router).with_graceful_shutdown(stop).await {
        warn!(%err, "HTTP server failed");
    }
}

/// Binds and serves the AdminServer at `addr` under `command_url`; returns the bound address.
pub async fn start_admin(
    addr: &str,
    command_url: &str,
    queries: Queries,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let base = command_url.trim_end_matches('/');
    let router =
        Router::new().route(base, get(list)).route(&format!("{base}/{{name}}"), get(command)).with_state(queries);
    info!(%local, "AdminServer listening");
    tokio::spawn(serve(listener, router, shutdown));
    Ok(local)
}

/// Binds and serves the Prometheus endpoint (`/metrics`) at `addr`; returns the bound address.
pub async fn start_metrics(
    addr: &str,
    queries: Queries,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let router = Router::new().route("/metrics", get(metrics)).with_state(queries);
    info!(%local, "Prometheus metrics listening");
    tokio::spawn(serve(listener, router, shutdown));
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_lists_numbers_only() {
        let text = prometheus_text(&[
            ("version", MetricValue::Text("x".into())),
            ("znode_count", MetricValue::Int(5)),
            ("avg_latency", MetricValue::Float(0.5)),
        ]);
        assert_eq!(text, "# TYPE znode_count gauge\nznode_count 5\n# TYPE avg_latency gauge\navg_latency 0.5\n");
    }
}
