//! `zk-bench`: run one workload against a ZooKeeper-protocol server and print its report.

use std::process::ExitCode;

use clap::Parser;
use zk_bench::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match zk_bench::run(&cli).await {
        Ok(report) => {
            #[allow(clippy::print_stdout)]
            if cli.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_table());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("zk-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
