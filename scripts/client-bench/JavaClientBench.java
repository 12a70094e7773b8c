// The Java-client side of scripts/bench-clients.sh: the same work as
// zk-client/examples/client_bench.rs, with Apache ZooKeeper's own client (org.apache.zookeeper.ZooKeeper).
//
// Shapes, both on ONE ZooKeeper handle (one session, one connection):
//   pipelined  the main thread keeps --concurrency async requests outstanding (a semaphore window,
//              released by the completion callbacks);
//   tasks      --concurrency threads share the handle, each using the sync API one request at a time.
// Slot i works on <root>/n-<i % nodes>; create makes ephemeral sequential <root>/create/e- nodes.
// Prints one JSON line (--json) with the keys the Rust and kazoo sides print.
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public final class JavaClientBench {
    /** A growable list of latencies (microseconds). */
    static final class Longs {
        long[] a = new long[1 << 16];
        int n;

        void add(long v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(Longs o) {
            for (int i = 0; i < o.n; i++) add(o.a[i]);
        }
    }

    static String connect = "127.0.0.1:2181", op = "get", shape = "pipelined", root = "/client-bench";
    static int concurrency = 64, payloadSize = 1024, nodes = 64;
    static double duration = 10, warmup = 2;
    static boolean json;

    static String[] paths;
    static String createPath;
    static byte[] payload;
    static long measureFrom, end;
    static final AtomicLong errors = new AtomicLong();
    static final AtomicReference<String> firstError = new AtomicReference<>();

    static void error(Object what) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, String.valueOf(what));
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--op": op = args[++i]; break;
                case "--shape": shape = args[++i]; break;
                case "--concurrency": concurrency = Math.max(1, Integer.parseInt(args[++i])); break;
                case "--payload": payloadSize = Integer.parseInt(args[++i]); break;
                case "--duration": duration = Double.parseDouble(args[++i]); break;
                case "--warmup": warmup = Double.parseDouble(args[++i]); break;
                case "--nodes": nodes = Math.max(1, Integer.parseInt(args[++i])); break;
                case "--root": root = args[++i]; break;
                case "--json": json = true; break;
                default:
                    if (args[i].startsWith("--")) throw new IllegalArgumentException("unknown option " + args[i]);
                    connect = args[i];
            }
        }
        root = root.replaceAll("/+$", "");
        paths = new String[nodes];
        for (int i = 0; i < nodes; i++) paths[i] = root + "/n-" + i;
        createPath = root + "/create/e-";
        payload = new byte[payloadSize];
        Arrays.fill(payload, (byte) 'x');

        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(20, TimeUnit.SECONDS)) throw new IllegalStateException("no session");

        long start = System.nanoTime();
        measureFrom = start + (long) (warmup * 1e9);
        end = measureFrom + (long) (duration * 1e9);
        Longs lat = shape.equals("pipelined") ? pipelined(zk) : tasks(zk);

        double seconds = (end - measureFrom) / 1e9;
        long[] sorted = Arrays.copyOf(lat.a, lat.n);
        Arrays.sort(sorted);
        long ops = sorted.length;
        double opsPerSec = ops / seconds;
        long p50 = pct(sorted, 0.50), p99 = pct(sorted, 0.99), p999 = pct(sorted, 0.999);
        long max = ops == 0 ? 0 : sorted[sorted.length - 1];
        if (json) {
            System.out.printf(
                    "{\"client\":\"java\",\"op\":\"%s\",\"shape\":\"%s\",\"concurrency\":%d,\"payload\":%d,"
                            + "\"seconds\":%.3f,\"ops\":%d,\"errors\":%d,\"ops_per_sec\":%.1f,\"p50_us\":%d,"
                            + "\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d}%n",
                    op, shape, concurrency, payloadSize, seconds, ops, errors.get(), opsPerSec, p50, p99, p999, max);
        } else {
            System.out.printf(
                    "java %s %s x%d, %d B: %d ops in %.1f s = %.0f ops/s; latency p50 %d us, p99 %d us, "
                            + "p99.9 %d us, max %d us; %d errors%n",
                    op, shape, concurrency, payloadSize, ops, seconds, opsPerSec, p50, p99, p999, max, errors.get());
        }
        if (firstError.get() != null) System.err.println("first error: " + firstError.get());
        zk.close();
    }

    static long pct(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        return sorted[Math.min(sorted.length - 1, (int) (q * sorted.length))];
    }

    /** One thread keeps `concurrency` async requests in flight; callbacks (one event thread) record. */
    static Longs pipelined(ZooKeeper zk) throws InterruptedException {
        Semaphore window = new Semaphore(concurrency);
        Longs lat = new Longs(); // only touched by the event thread until the window drains
        AsyncCallback.DataCallback onGet = (rc, path, ctx, data, stat) -> done(window, lat, rc, (Long) ctx);
        AsyncCallback.StatCallback onSet = (rc, path, ctx, stat) -> done(window, lat, rc, (Long) ctx);
        AsyncCallback.StringCallback onCreate = (rc, path, ctx, name) -> done(window, lat, rc, (Long) ctx);
        long slot = 0;
        while (true) {
            window.acquire();
            long started = System.nanoTime();
            if (started >= end) {
                window.release();
                break;
            }
            String path = paths[(int) (slot++ % paths.length)];
            switch (op) {
                case "get": zk.getData(path, false, onGet, started); break;
                case "set": zk.setData(path, payload, -1, onSet, started); break;
                default:
                    zk.create(createPath, payload, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL,
                            onCreate, started);
            }
        }
        window.acquire(concurrency); // every reply is in
        return lat;
    }

    static void done(Semaphore window, Longs lat, int rc, long started) {
        if (started >= measureFrom) {
            if (rc == KeeperException.Code.OK.intValue()) {
                lat.add(Math.max(1, (System.nanoTime() - started) / 1000));
            } else {
                error(KeeperException.Code.get(rc));
            }
        }
        window.release();
    }

    /** `concurrency` threads share the handle, each sequential with the sync API. */
    static Longs tasks(ZooKeeper zk) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<Longs> results = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            final String path = paths[t % paths.length];
            final Longs local = new Longs();
            results.add(local);
            Thread thread = new Thread(() -> {
                while (true) {
                    long started = System.nanoTime();
                    if (started >= end) break;
                    try {
                        switch (op) {
                            case "get": zk.getData(path, false, null); break;
                            case "set": zk.setData(path, payload, -1); break;
                            default:
                                zk.create(createPath, payload, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                                        CreateMode.EPHEMERAL_SEQUENTIAL);
                        }
                        if (started >= measureFrom) local.add(Math.max(1, (System.nanoTime() - started) / 1000));
                    } catch (KeeperException e) {
                        if (started >= measureFrom) error(e.code());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            threads.add(thread);
            thread.start();
        }
        Longs all = new Longs();
        for (int t = 0; t < threads.size(); t++) {
            threads.get(t).join();
            all.addAll(results.get(t));
        }
        return all;
    }
}
