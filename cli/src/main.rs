//! `qrgate`: reads the command line and runs it (`lib.rs`). Every failure is one line on
//! standard error and a non-zero status, never a backtrace.

use std::process::ExitCode;

fn main() -> ExitCode {
    qrgate_cli::one_line_panics();
    let command = match qrgate_cli::Command::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(error) => return qrgate_cli::fail(&error),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let outcome = match runtime {
        Ok(runtime) => runtime.block_on(qrgate_cli::run(command)),
        Err(error) => Err(qrgate_cli::CliError::Io(error.to_string())),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => qrgate_cli::fail(&error),
    }
}
