// Differential oracle for zk-server's DataTree (see ../differential.rs for how to run it).
//
// Reads a txn log written by the ignored Rust test `write_differential_log` ([int length][txn entry]...),
// applies every entry to Apache ZooKeeper's own DataTree and prints the values the Rust test hard-codes.
//
//   CP=/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar
//   javac -d /tmp/oracle -cp $CP DiffOracle.java
//   java -Dzookeeper.extendedTypesEnabled=true -cp /tmp/oracle:$CP org.apache.zookeeper.server.DiffOracle /tmp/zk-diff.bin
package org.apache.zookeeper.server;

import java.io.DataInputStream;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.util.SerializeUtils;

public class DiffOracle {
    public static void main(String[] args) throws Exception {
        DataTree dt = new DataTree();
        StringBuilder results = new StringBuilder();
        try (DataInputStream in = new DataInputStream(new FileInputStream(args[0]))) {
            while (in.available() > 0) {
                byte[] bytes = new byte[in.readInt()];
                in.readFully(bytes);
                TxnLogEntry entry = SerializeUtils.deserializeTxn(bytes);
                DataTree.ProcessTxnResult rc = dt.processTxn(entry.getHeader(), entry.getTxn());
                results.append(entry.getHeader().getZxid()).append(':').append(rc.err).append(':')
                    .append(dt.getTreeDigest()).append('\n');
            }
        }
        StringBuilder dump = new StringBuilder();
        TreeSet<String> paths = allPaths(dt);
        for (String path : paths) {
            DataNode n = dt.getNode(path);
            Stat s = new Stat();
            n.copyStat(s);
            StringBuilder data = new StringBuilder();
            if (n.data == null) {
                data.append("null");
            } else {
                for (byte b : n.data) {
                    data.append(String.format("%02x", b));
                }
            }
            dump.append(path).append('|').append(s.getCzxid()).append(',').append(s.getMzxid()).append(',')
                .append(s.getCtime()).append(',').append(s.getMtime()).append(',').append(s.getVersion()).append(',')
                .append(s.getCversion()).append(',').append(s.getAversion()).append(',').append(s.getEphemeralOwner())
                .append(',').append(s.getDataLength()).append(',').append(s.getNumChildren()).append(',')
                .append(s.getPzxid()).append('|').append(n.acl).append('|').append(data).append('|')
                .append(String.join(",", new TreeSet<>(n.getChildren()))).append('\n');
        }
        for (var e : new TreeMap<>(dt.getReferenceCountedAclCache().longKeyMap).entrySet()) {
            List<String> list = new ArrayList<>();
            for (ACL acl : e.getValue()) {
                list.add(acl.getPerms() + ":" + acl.getId().getScheme() + ":" + acl.getId().getId());
            }
            dump.append("acl|").append(e.getKey()).append('|').append(String.join(";", list)).append('\n');
        }
        dump.append("containers|").append(String.join(",", new TreeSet<>(dt.getContainers()))).append('\n');
        dump.append("ttls|").append(String.join(",", new TreeSet<>(dt.getTtls()))).append('\n');
        TreeSet<String> ephemerals = new TreeSet<>();
        for (var set : dt.getEphemerals().values()) {
            ephemerals.addAll(set);
        }
        dump.append("ephemerals|").append(String.join(",", ephemerals)).append('\n');
        System.out.println("final_digest " + dt.getTreeDigest());
        System.out.println("results_crc " + crc(results.toString()));
        System.out.println("dump_crc " + crc(dump.toString()));
        System.out.println("node_count " + dt.getNodeCount());
        System.out.println("cached_data_size " + dt.cachedApproximateDataSize());
        System.out.println("all_children " + dt.getAllChildrenNumber("/"));
        if (args.length > 1) {
            java.nio.file.Files.writeString(java.nio.file.Path.of(args[1]), dump.toString());
        }
    }

    // Every key of the tree's private node map except the root's "" alias (orphans included).
    static TreeSet<String> allPaths(DataTree dt) throws Exception {
        java.lang.reflect.Field field = DataTree.class.getDeclaredField("nodes");
        field.setAccessible(true);
        NodeHashMap nodes = (NodeHashMap) field.get(dt);
        TreeSet<String> paths = new TreeSet<>();
        for (var entry : nodes.entrySet()) {
            if (!entry.getKey().isEmpty()) {
                paths.add(entry.getKey());
            }
        }
        return paths;
    }

    static long crc(String text) {
        CRC32 crc = new CRC32();
        crc.update(text.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }
}
