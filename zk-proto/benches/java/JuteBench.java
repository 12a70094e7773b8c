// Times Apache ZooKeeper's own jute serialization of the records zk-proto's criterion benchmark uses
// (benches/codec.rs), so the two can be compared on one machine. Run through run.sh.
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.jute.BinaryInputArchive;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.MultiResponse;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.GetChildrenResponse;
import org.apache.zookeeper.proto.GetDataResponse;

public class JuteBench {
    interface Factory { Record make(); }

    static byte[] encode(Record r) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        r.serialize(BinaryOutputArchive.getArchive(out), "r");
        return out.toByteArray();
    }

    static long sink;

    // Median ns/op over several timed rounds, after a warm-up that lets the JIT compile everything.
    static double time(Runnable op) {
        for (long end = System.nanoTime() + 3_000_000_000L; System.nanoTime() < end; ) op.run();
        double[] rounds = new double[15];
        for (int i = 0; i < rounds.length; i++) {
            int n = 0;
            long start = System.nanoTime(), end = start + 200_000_000L, now;
            do { op.run(); n++; now = System.nanoTime(); } while (now < end);
            rounds[i] = (double) (now - start) / n;
        }
        Arrays.sort(rounds);
        return rounds[rounds.length / 2];
    }

    static void bench(String name, Record value, Factory factory) throws IOException {
        byte[] bytes = encode(value);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
        double enc = time(() -> {
            try {
                out.reset();
                value.serialize(BinaryOutputArchive.getArchive(out), "r");
                sink += out.size();
            } catch (IOException e) { throw new RuntimeException(e); }
        });
        double dec = time(() -> {
            try {
                Record r = factory.make();
                r.deserialize(BinaryInputArchive.getArchive(new DataInputStream(new ByteArrayInputStream(bytes))), "r");
                sink += r.hashCode();
            } catch (IOException e) { throw new RuntimeException(e); }
        });
        System.out.printf("%s/encode %.1f ns%n%s/decode %.1f ns%n", name, enc, name, dec);
    }

    public static void main(String[] args) throws IOException {
        Stat stat = new Stat(0x100000001L, 0x100000002L, 1_700_000_000_000L, 1_700_000_000_001L, 3, 1000, 0, 0, 1024,
                1000, 0x100000003L);
        byte[] data = new byte[1024];
        Arrays.fill(data, (byte) 0xab);
        bench("GetDataResponse_1KiB", new GetDataResponse(data, stat), GetDataResponse::new);
        List<String> children = new ArrayList<>();
        for (int i = 0; i < 1000; i++) children.add(String.format("child-%010d", i));
        bench("GetChildrenResponse_1000", new GetChildrenResponse(children), GetChildrenResponse::new);
        byte[] createData = new byte[1024];
        Arrays.fill(createData, (byte) 7);
        bench("CreateRequest_1KiB", new CreateRequest("/benchmarks/node-0000000001", createData,
                ZooDefs.Ids.OPEN_ACL_UNSAFE, 0), CreateRequest::new);
        // A 10-op multi of setDatas with 100 bytes of data each, and its reply (codec.rs `multi`).
        List<Op> ops = new ArrayList<>();
        MultiResponse results = new MultiResponse();
        for (int i = 0; i < 10; i++) {
            byte[] opData = new byte[100];
            Arrays.fill(opData, (byte) 7);
            ops.add(Op.setData(String.format("/benchmarks/node-%010d", i), opData, -1));
            results.add(new OpResult.SetDataResult(stat));
        }
        bench("MultiRequest_10", new MultiOperationRecord(ops), MultiOperationRecord::new);
        bench("MultiResponse_10", results, MultiResponse::new);
        if (sink == 42) System.out.println();
    }
}
