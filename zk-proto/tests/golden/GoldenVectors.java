/*
 * Golden test vectors for zk-proto, produced by Apache ZooKeeper's own jute classes.
 *
 * Every record is serialized with ZooKeeper's generated (or hand-written) record class through
 * org.apache.jute.BinaryOutputArchive and written to <outdir>/<Name>.bin (variants: <Name>-<variant>.bin).
 * The values are fixed; zk-proto/tests/golden/*.rs builds the same values in Rust, decodes each file and
 * re-encodes it byte for byte. Keep the two in sync: a value changed here must be changed there.
 *
 * Written against ZooKeeper 3.8 (Debian's zookeeper package); run it with generate.sh.
 */

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.DataOutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.MultiResponse;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.data.StatPersisted;
import org.apache.zookeeper.proto.*;
import org.apache.zookeeper.server.persistence.FileHeader;
import org.apache.zookeeper.server.persistence.FileSnap;
import org.apache.zookeeper.server.persistence.FileTxnLog;
import org.apache.zookeeper.server.persistence.Util;
import org.apache.zookeeper.server.quorum.FastLeaderElection;
import org.apache.zookeeper.server.quorum.Leader;
import org.apache.zookeeper.server.quorum.LearnerInfo;
import org.apache.zookeeper.server.quorum.QuorumPacket;
import org.apache.zookeeper.server.quorum.auth.QuorumAuth;
import org.apache.zookeeper.txn.*;

public final class GoldenVectors {
    private final Path outDir;
    private final Set<String> written = new HashSet<>();

    private GoldenVectors(Path outDir) {
        this.outDir = outDir;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: GoldenVectors <output dir>");
            System.exit(2);
        }
        Path out = Paths.get(args[0]);
        Files.createDirectories(out);
        GoldenVectors g = new GoldenVectors(out);
        g.client();
        g.multi();
        g.txn();
        g.quorum();
        g.election();
        System.err.println("wrote " + g.written.size() + " fixtures to " + out);
    }

    // ---------------------------------------------------------------------------------------------
    // Shared values (mirrored in the Rust tests).

    /** Non-ASCII but BMP only: jute's writer encodes UTF-16 code units, so non-BMP chars would be CESU-8. */
    static final String PATH = "/zk-rs/golden/ünïcödé/节点-€";

    /** Binary data with every interesting byte class. */
    static final byte[] DATA = {0, 1, 2, 0x7f, (byte) 0x80, (byte) 0xfe, (byte) 0xff, 'z', 'k'};

    /** A 16-byte session password. */
    static final byte[] PASSWD = {
        (byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, 0, 1, 2, 3,
        (byte) 0xff, (byte) 0xfe, 0x7f, (byte) 0x80, 0x10, 0x20, 0x30, 0x40};

    static final long SESSION_ID = 0x72010000000000a5L;

    static Stat stat() {
        return new Stat(
            0x0000000500000001L, // czxid
            0x00000007000000ffL, // mzxid
            1700000000123L, // ctime
            1700000456789L, // mtime
            42, // version
            17, // cversion
            3, // aversion
            SESSION_ID, // ephemeralOwner
            9, // dataLength
            2, // numChildren
            0x00000006000000aaL); // pzxid
    }

    /** Extreme values in every field, to catch sign and width mistakes. */
    static Stat statExtremes() {
        return new Stat(
            Long.MIN_VALUE, // czxid
            Long.MAX_VALUE, // mzxid
            -1L, // ctime
            0L, // mtime
            Integer.MIN_VALUE, // version
            Integer.MAX_VALUE, // cversion
            -1, // aversion
            0xff000000000003e8L, // ephemeralOwner (a TTL node, ttl 1000)
            0, // dataLength
            -2, // numChildren
            -0x0123456789abcdefL); // pzxid
    }

    static List<ACL> acls() {
        return Arrays.asList(
            new ACL(ZooDefs.Perms.ALL, new Id("world", "anyone")),
            new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.ADMIN, new Id("digest", "bøb:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDA=")),
            new ACL(ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE, new Id("ip", "10.0.0.0/8")));
    }

    static List<String> children() {
        return Arrays.asList("child-0000000001", "ünï", "节点", "");
    }

    // ---------------------------------------------------------------------------------------------
    // Output.

    private void writeFile(String name, byte[] bytes) throws IOException {
        if (!written.add(name)) {
            throw new IllegalStateException("fixture written twice: " + name);
        }
        Files.write(outDir.resolve(name + ".bin"), bytes);
    }

    static byte[] serialize(Record record) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryOutputArchive archive = BinaryOutputArchive.getArchive(bytes);
        record.serialize(archive, "record");
        return bytes.toByteArray();
    }

    private void emit(String name, Record record) throws IOException {
        writeFile(name, serialize(record));
    }

    /** A record followed by one trailing boolean, as ClientCnxn / ZooKeeperServer append `readOnly`. */
    private void emitWithReadOnly(String name, Record record, boolean readOnly) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryOutputArchive archive = BinaryOutputArchive.getArchive(bytes);
        record.serialize(archive, "connect");
        archive.writeBool(readOnly, "readOnly");
        writeFile(name, bytes.toByteArray());
    }

    // ---------------------------------------------------------------------------------------------
    // Client records (zookeeper.jute, module org.apache.zookeeper.data / .proto).

    private void client() throws Exception {
        emit("Id", new Id("x509", "CN=Jörg Müller,O=Ünïcode Ltd"));
        emit("ACL", new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.WRITE | ZooDefs.Perms.ADMIN, new Id("sasl", "zk/节点@EXAMPLE.COM")));
        emit("Stat", stat());
        emit("Stat-extremes", statExtremes());
        emit("StatPersisted", new StatPersisted(
            0x0000000500000001L, 0x00000007000000ffL, 1700000000123L, 1700000456789L,
            -7, 1 << 30, 5, Long.MIN_VALUE, 0x7fffffff00000000L));
        emit("ClientInfo", new ClientInfo("digest", "bøb"));

        // In 3.8 the jute ConnectRequest/Response have no readOnly field: the client and server append
        // it by hand (ClientCnxn.SendThread / ZooKeeperServer.finishSessionInit), and omit it for old peers.
        emitWithReadOnly("ConnectRequest",
            new ConnectRequest(0, 0x0000012300004567L, 30000, SESSION_ID, PASSWD), true);
        emit("ConnectRequest-legacy", new ConnectRequest(0, 0L, -1, 0L, new byte[0]));
        emitWithReadOnly("ConnectResponse", new ConnectResponse(0, 40000, SESSION_ID, PASSWD), false);
        emit("ConnectResponse-legacy", new ConnectResponse(0, 0, 0L, new byte[16]));

        emit("RequestHeader", new RequestHeader(-8, ZooDefs.OpCode.setWatches2));
        emit("ReplyHeader", new ReplyHeader(-1, 0x123456789abcdef0L, -101));
        emit("MultiHeader", new MultiHeader(ZooDefs.OpCode.create2, false, -110));
        emit("AuthPacket", new AuthPacket(0, "digest", "bøb:pässwörd".getBytes(StandardCharsets.UTF_8)));
        emit("WatcherEvent", new WatcherEvent(4, 3, PATH));
        emit("ErrorResponse", new ErrorResponse(-112));
        emit("SetWatches", new SetWatches(
            0x0000000900000010L,
            Arrays.asList(PATH, "/a"),
            Collections.emptyList(),
            Arrays.asList("/节点")));
        emit("SetWatches2", new SetWatches2(
            -1L,
            Arrays.asList("/d"),
            Arrays.asList("/e1", "/e2"),
            Collections.emptyList(),
            Arrays.asList(PATH),
            Arrays.asList("/", "/rec")));

        emit("CreateRequest", new CreateRequest(PATH, DATA, acls(), CreateMode.EPHEMERAL_SEQUENTIAL.toFlag()));
        emit("CreateRequest-nullData", new CreateRequest("/null", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, 0));
        emit("CreateRequest-emptyData", new CreateRequest("/empty", new byte[0], Collections.emptyList(),
            CreateMode.CONTAINER.toFlag()));
        emit("CreateTTLRequest", new CreateTTLRequest(PATH, DATA, ZooDefs.Ids.CREATOR_ALL_ACL,
            CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL.toFlag(), 0xffffffffffL));
        emit("CreateResponse", new CreateResponse(PATH + "0000000042"));
        emit("Create2Response", new Create2Response(PATH, stat()));
        emit("DeleteRequest", new DeleteRequest(PATH, -1));
        emit("ExistsRequest", new ExistsRequest(PATH, true));
        emit("ExistsResponse", new ExistsResponse(statExtremes()));
        emit("GetDataRequest", new GetDataRequest("/zookeeper/config", false));
        emit("GetDataResponse", new GetDataResponse(DATA, stat()));
        emit("GetDataResponse-nullData", new GetDataResponse(null, statExtremes()));
        emit("GetDataResponse-emptyData", new GetDataResponse(new byte[0], stat()));
        emit("SetDataRequest", new SetDataRequest(PATH, DATA, 41));
        emit("SetDataRequest-nullData", new SetDataRequest("/n", null, -1));
        emit("SetDataResponse", new SetDataResponse(stat()));
        emit("GetACLRequest", new GetACLRequest(PATH));
        emit("GetACLResponse", new GetACLResponse(acls(), stat()));
        emit("SetACLRequest", new SetACLRequest(PATH, acls(), 2));
        emit("SetACLResponse", new SetACLResponse(statExtremes()));
        emit("GetChildrenRequest", new GetChildrenRequest("/", true));
        emit("GetChildrenResponse", new GetChildrenResponse(children()));
        emit("GetChildrenResponse-empty", new GetChildrenResponse(Collections.emptyList()));
        emit("GetChildren2Request", new GetChildren2Request(PATH, false));
        emit("GetChildren2Response", new GetChildren2Response(children(), stat()));
        emit("SyncRequest", new SyncRequest(PATH));
        emit("SyncResponse", new SyncResponse(PATH));
        emit("CheckVersionRequest", new CheckVersionRequest(PATH, Integer.MAX_VALUE));
        emit("ReconfigRequest", new ReconfigRequest(
            "server.4=zk4.example.com:2888:3888:participant;2181,server.5=[::1]:2889:3889:observer;2182",
            "1,2", "", 0x100000002L));
        emit("ReconfigRequest-nulls", new ReconfigRequest(null, "3", null, -1L));
        emit("CheckWatchesRequest", new CheckWatchesRequest(PATH, 2));
        emit("RemoveWatchesRequest", new RemoveWatchesRequest(PATH, 5));
        emit("GetSASLRequest", new GetSASLRequest(new byte[] {0x60, (byte) 0x82, 0, 0, (byte) 0xff}));
        emit("SetSASLRequest", new SetSASLRequest(new byte[0]));
        emit("SetSASLResponse", new SetSASLResponse(DATA));
        emit("GetEphemeralsRequest", new GetEphemeralsRequest("/app/ü"));
        emit("GetEphemeralsResponse", new GetEphemeralsResponse(Arrays.asList(PATH, "/app/ü/e-0000000001")));
        emit("GetAllChildrenNumberRequest", new GetAllChildrenNumberRequest("/"));
        emit("GetAllChildrenNumberResponse", new GetAllChildrenNumberResponse(1234567));
        emit("AddWatchRequest", new AddWatchRequest(PATH, 1));
        emit("WhoAmIResponse", new WhoAmIResponse(Arrays.asList(
            new ClientInfo("ip", "127.0.0.1"), new ClientInfo("digest", "bøb"), new ClientInfo("sasl", "zk/节点"))));
        emit("GetMaxChildrenRequest", new GetMaxChildrenRequest(PATH));
        emit("GetMaxChildrenResponse", new GetMaxChildrenResponse(-1));
        emit("SetMaxChildrenRequest", new SetMaxChildrenRequest(PATH, 1000));
        emitDeleteContainerRequest("DeleteContainerRequest", "/containers/ünï");
    }

    /**
     * org.apache.zookeeper.DeleteContainerRequest exists only from ZooKeeper 3.9 on (one `buffer` holding the
     * UTF-8 path; 3.8's ContainerManager passes the bare path bytes internally). Use the class when the jar has
     * it, else write exactly what its serialize() does.
     */
    private void emitDeleteContainerRequest(String name, String path) throws Exception {
        try {
            Class<?> cls = Class.forName("org.apache.zookeeper.DeleteContainerRequest");
            emit(name, (Record) cls.getConstructor(String.class).newInstance(path));
        } catch (ClassNotFoundException notIn38) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            BinaryOutputArchive archive = BinaryOutputArchive.getArchive(bytes);
            archive.writeBuffer(path.getBytes(StandardCharsets.UTF_8), "path");
            writeFile(name, bytes.toByteArray());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // multi / multiRead: MultiOperationRecord and MultiResponse (hand-written records in zookeeper.jar).

    /** The Java client never sends create2 as a multi sub-op, but servers accept it: retype an Op.create. */
    static Op asCreate2(Op create) throws ReflectiveOperationException {
        Field type = Op.class.getDeclaredField("type");
        type.setAccessible(true);
        type.setInt(create, ZooDefs.OpCode.create2);
        return create;
    }

    private void multi() throws Exception {
        MultiOperationRecord writes = new MultiOperationRecord();
        writes.add(Op.create(PATH + "/seq-", DATA, acls(), CreateMode.PERSISTENT_SEQUENTIAL));
        writes.add(asCreate2(Op.create("/c2", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL)));
        writes.add(Op.create("/container", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER));
        writes.add(Op.create("/ttl", DATA, ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 0xffffffffffL));
        writes.add(Op.delete(PATH, -1));
        writes.add(Op.setData(PATH, DATA, 42));
        writes.add(Op.check(PATH, Integer.MIN_VALUE));
        emit("MultiOperationRecord", writes);

        MultiOperationRecord reads = new MultiOperationRecord();
        reads.add(Op.getData(PATH));
        reads.add(Op.getChildren("/"));
        reads.add(Op.getData("/zookeeper/config"));
        emit("MultiOperationRecord-read", reads);

        emit("MultiOperationRecord-empty", new MultiOperationRecord());

        MultiResponse ok = new MultiResponse();
        ok.add(new OpResult.CreateResult(PATH + "/seq-0000000007"));
        ok.add(new OpResult.CreateResult("/c2", stat()));
        ok.add(new OpResult.DeleteResult());
        ok.add(new OpResult.SetDataResult(statExtremes()));
        ok.add(new OpResult.CheckResult());
        emit("MultiResponse", ok);

        MultiResponse read = new MultiResponse();
        read.add(new OpResult.GetDataResult(DATA, stat()));
        read.add(new OpResult.GetChildrenResult(children()));
        read.add(new OpResult.ErrorResult(-101));
        read.add(new OpResult.GetDataResult(null, statExtremes()));
        emit("MultiResponse-read", read);

        // A failed atomic multi: ops before the failing one get 0, the failing one its code, later ones -2.
        MultiResponse failed = new MultiResponse();
        failed.add(new OpResult.ErrorResult(0));
        failed.add(new OpResult.ErrorResult(-110));
        failed.add(new OpResult.ErrorResult(-2));
        failed.add(new OpResult.ErrorResult(-2));
        emit("MultiResponse-failed", failed);

        emit("MultiResponse-empty", new MultiResponse());
    }

    // ---------------------------------------------------------------------------------------------
    // Txn records (module org.apache.zookeeper.txn) and serialized txn entries.

    static final long TXN_TIME = 1700000000999L;

    static TxnDigest digest() {
        return new TxnDigest(2, -0x1122334455667788L);
    }

    /** A multi sub-txn, built as PrepRequestProcessor does: the type and the serialized sub-txn record. */
    static Txn subTxn(int type, Record txn) throws IOException {
        return new Txn(type, serialize(txn));
    }

    static MultiTxn multiTxn() throws IOException {
        return new MultiTxn(Arrays.asList(
            subTxn(ZooDefs.OpCode.create, new CreateTxn(PATH + "/seq-0000000007", DATA, acls(), false, 3)),
            subTxn(ZooDefs.OpCode.createTTL,
                new CreateTTLTxn("/ttl", DATA, ZooDefs.Ids.READ_ACL_UNSAFE, 1, 0xffffffffffL)),
            subTxn(ZooDefs.OpCode.createContainer,
                new CreateContainerTxn("/container", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, 0)),
            subTxn(ZooDefs.OpCode.delete, new DeleteTxn(PATH)),
            subTxn(ZooDefs.OpCode.setData, new SetDataTxn(PATH, DATA, 43)),
            subTxn(ZooDefs.OpCode.check, new CheckVersionTxn(PATH, 42))));
    }

    static TxnHeader createHeader() {
        return new TxnHeader(SESSION_ID, 7, 0x0000000500000043L, TXN_TIME, ZooDefs.OpCode.create);
    }

    static CreateTxn createTxn() {
        return new CreateTxn(PATH, DATA, acls(), true, 12);
    }

    private void txn() throws Exception {
        emit("TxnHeader", new TxnHeader(SESSION_ID, 1234567, 0x0000000500000042L, TXN_TIME, ZooDefs.OpCode.create2));
        emit("TxnDigest", digest());
        emit("CreateTxn", createTxn());
        emit("CreateTxn-nullData", new CreateTxn("/n", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, false, -1));
        emit("CreateTxnV0", new CreateTxnV0(PATH, DATA, acls(), false));
        emit("CreateTTLTxn", new CreateTTLTxn(PATH, DATA, ZooDefs.Ids.CREATOR_ALL_ACL, 5, 0xffffffffffL));
        emit("CreateContainerTxn", new CreateContainerTxn(
            "/containers/ünï", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, Integer.MAX_VALUE));
        emit("DeleteTxn", new DeleteTxn(PATH));
        emit("SetDataTxn", new SetDataTxn(PATH, DATA, 43));
        emit("SetDataTxn-nullData", new SetDataTxn("/n", null, 0));
        emit("CheckVersionTxn", new CheckVersionTxn(PATH, 42));
        emit("SetACLTxn", new SetACLTxn(PATH, acls(), 4));
        emit("CreateSessionTxn", new CreateSessionTxn(30000));
        emit("CloseSessionTxn", new CloseSessionTxn(Arrays.asList(PATH, "/eph/1")));
        emit("CloseSessionTxn-empty", new CloseSessionTxn(Collections.emptyList()));
        emit("ErrorTxn", new ErrorTxn(-101));
        emit("SetMaxChildrenTxn", new SetMaxChildrenTxn(PATH, 100));
        emit("Txn", subTxn(ZooDefs.OpCode.delete, new DeleteTxn(PATH)));
        emit("MultiTxn", multiTxn());
        // A failed multi: ops before the failing one get 0, the failing one its code, later ones -2.
        emit("MultiTxn-failed", new MultiTxn(Arrays.asList(
            subTxn(ZooDefs.OpCode.error, new ErrorTxn(0)),
            subTxn(ZooDefs.OpCode.error, new ErrorTxn(-110)),
            subTxn(ZooDefs.OpCode.error, new ErrorTxn(-2)))));

        // Whole entries (header, body, digest) as the txn log and PROPOSAL packets carry them.
        writeFile("TxnEntry", Util.marshallTxnEntry(createHeader(), createTxn(), digest()));
        writeFile("TxnEntry-multi", Util.marshallTxnEntry(
            new TxnHeader(SESSION_ID, 8, 0x0000000500000044L, TXN_TIME + 1, ZooDefs.OpCode.multi),
            multiTxn(), digest()));
        writeFile("TxnEntry-createSession", Util.marshallTxnEntry(
            new TxnHeader(SESSION_ID, 0, 0x0000000500000001L, TXN_TIME, ZooDefs.OpCode.createSession),
            new CreateSessionTxn(30000), digest()));
        writeFile("TxnEntry-error", Util.marshallTxnEntry(
            new TxnHeader(SESSION_ID, 9, 0x0000000500000045L, TXN_TIME, ZooDefs.OpCode.error),
            new ErrorTxn(-110), digest()));
        writeFile("TxnEntry-closeSession-noDigest", Util.marshallTxnEntry(
            new TxnHeader(SESSION_ID, 10, 0x0000000500000046L, TXN_TIME, ZooDefs.OpCode.closeSession),
            new CloseSessionTxn(Arrays.asList(PATH)), null));
        // Older servers logged closeSession without a body.
        writeFile("TxnEntry-closeSession-legacy", Util.marshallTxnEntry(
            new TxnHeader(SESSION_ID, 11, 0x0000000500000047L, TXN_TIME, ZooDefs.OpCode.closeSession), null, null));
        // With zookeeper.closeSessionTxn.enabled=false, 3.6+ servers log closeSession as header and digest only.
        writeFile("TxnEntry-closeSession-digestOnly", Util.marshallTxnEntry(
            new TxnHeader(SESSION_ID, 12, 0x0000000500000048L, TXN_TIME, ZooDefs.OpCode.closeSession), null, digest()));
        // Logs from before parentCVersion hold CreateTxnV0 bodies (and no digest).
        writeFile("TxnEntry-createV0", Util.marshallTxnEntry(
            new TxnHeader(SESSION_ID, 13, 0x0000000500000049L, TXN_TIME, ZooDefs.OpCode.create),
            new CreateTxnV0(PATH, DATA, acls(), true), null));

        emit("FileHeader", new FileHeader(FileTxnLog.TXNLOG_MAGIC, FileTxnLog.VERSION, 0L));
        emit("FileHeader-snapshot", new FileHeader(FileSnap.SNAP_MAGIC, (Integer) staticField(FileSnap.class, "VERSION"),
            (Long) staticField(FileSnap.class, "dbId")));
    }

    // ---------------------------------------------------------------------------------------------
    // Quorum (Zab) records.

    static Object staticField(Class<?> cls, String name) throws ReflectiveOperationException {
        Field field = cls.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(null);
    }

    /** Leader's packet type constants (most are package-private). */
    static int packetType(String name) throws ReflectiveOperationException {
        return (Integer) staticField(Leader.class, name);
    }

    private void quorum() throws Exception {
        emit("QuorumPacket", new QuorumPacket(packetType("ACK"), 0x0000000500000043L, null, null));

        // A forwarded client request, as Learner.request() lays it out: sessionId, cxid, type, request record.
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(request);
        out.writeLong(SESSION_ID);
        out.writeInt(7);
        out.writeInt(ZooDefs.OpCode.setData);
        out.write(serialize(new SetDataRequest(PATH, DATA, -1)));
        out.flush();
        emit("QuorumPacket-request", new QuorumPacket(packetType("REQUEST"), -1L, request.toByteArray(),
            Arrays.asList(new Id("digest", "bøb:Zm9vYmFy"), new Id("ip", "127.0.0.1"))));

        emit("QuorumPacket-proposal", new QuorumPacket(packetType("PROPOSAL"), 0x0000000500000043L,
            Util.marshallTxnEntry(createHeader(), createTxn(), digest()), null));
        emit("QuorumPacket-empty", new QuorumPacket(packetType("NEWLEADER"), 0x0000000600000000L, new byte[0],
            Collections.emptyList()));

        emit("LearnerInfo", new LearnerInfo(3L, 0x10000, 0x0000000100000000L));
        emit("QuorumAuthPacket", QuorumAuth.createPacket(QuorumAuth.Status.ERROR, new byte[] {1, 2, 3, (byte) 0xff}));
    }

    // ---------------------------------------------------------------------------------------------
    // Fast leader election notifications (FastLeaderElection.buildMsg, package-private).

    static final String CONFIG = "server.1=zk1.example.com:2888:3888:participant;0.0.0.0:2181\n"
        + "server.2=[2001:db8::2]:2888:3888:observer;2181\n"
        + "version=500000043";

    private void election() throws Exception {
        Method build = FastLeaderElection.class.getDeclaredMethod(
            "buildMsg", int.class, long.class, long.class, long.class, long.class, byte[].class);
        build.setAccessible(true);
        ByteBuffer current = (ByteBuffer) build.invoke(null, 1, 3L, 0x0000000500000043L, 7L, 5L,
            CONFIG.getBytes(StandardCharsets.UTF_8));
        writeFile("Notification", current.array());
        ByteBuffer noConfig = (ByteBuffer) build.invoke(null, 0, Long.MAX_VALUE, -1L, 1L, 0L, new byte[0]);
        writeFile("Notification-emptyConfig", noConfig.array());

        // The 5-argument form: the 40-byte message of 3.4 servers (version 1, no config length).
        Method buildV1 = FastLeaderElection.class.getDeclaredMethod(
            "buildMsg", int.class, long.class, long.class, long.class, long.class);
        buildV1.setAccessible(true);
        ByteBuffer v1 = (ByteBuffer) buildV1.invoke(null, 2, 1L, 0x0000000400000010L, 3L, 4L);
        writeFile("Notification-v1", v1.array());
    }
}
