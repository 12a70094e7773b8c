//! Encode/decode throughput of representative records. Run with `cargo bench -p zk-proto --bench codec`.
//! The Java side of the comparison is `zk-proto/benches/java/JuteBench.java` (see BENCHMARKS.md).

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use zk_proto::*;

fn stat() -> Stat {
    Stat {
        czxid: 0x1_0000_0001,
        mzxid: 0x1_0000_0002,
        ctime: 1_700_000_000_000,
        mtime: 1_700_000_000_001,
        version: 3,
        cversion: 1000,
        aversion: 0,
        ephemeral_owner: 0,
        data_length: 1024,
        num_children: 1000,
        pzxid: 0x1_0000_0003,
    }
}

fn get_data_response() -> GetDataResponse {
    GetDataResponse { data: Some(Bytes::from(vec![0xab; 1024])), stat: stat() }
}

fn get_children_response() -> GetChildrenResponse {
    GetChildrenResponse { children: (0..1000).map(|i| format!("child-{i:010}")).collect() }
}

/// A 10-op `multi` of `setData`s with 100 bytes of data each, and its reply.
fn multi() -> (MultiRequest, MultiResponse) {
    let ops = (0..10)
        .map(|i| {
            MultiOp::SetData(SetDataRequest {
                path: format!("/benchmarks/node-{i:010}"),
                data: Some(Bytes::from(vec![7; 100])),
                version: -1,
            })
        })
        .collect();
    let results = (0..10).map(|_| OpResult::SetData(SetDataResponse { stat: stat() })).collect();
    (MultiRequest { ops }, MultiResponse { results })
}

fn bench_record<T: Jute>(c: &mut Criterion, name: &str, value: T) {
    let encoded = value.to_bytes();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    let mut buf = BytesMut::with_capacity(encoded.len());
    group.bench_function("encode", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&value).encode(&mut buf);
            black_box(buf.len())
        })
    });
    group.bench_function("decode", |b| b.iter(|| T::from_bytes(black_box(encoded.clone())).unwrap()));
    group.finish();
}

fn codec(c: &mut Criterion) {
    bench_record(c, "GetDataResponse_1KiB", get_data_response());
    bench_record(c, "GetChildrenResponse_1000", get_children_response());
    bench_record(
        c,
        "CreateRequest_1KiB",
        CreateRequest {
            path: "/benchmarks/node-0000000001".into(),
            data: Some(Bytes::from(vec![7; 1024])),
            acl: Acl::open_unsafe(),
            flags: 0,
        },
    );
    let (request, response) = multi();
    bench_record(c, "MultiRequest_10", request);
    bench_record(c, "MultiResponse_10", response);
}

criterion_group!(benches, codec);
criterion_main!(benches);
