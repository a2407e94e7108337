//! `video2mp3`: the command-line client. Wiring only; see lib.rs.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = video2mp3_cli::Cli::parse();
    match video2mp3_cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
