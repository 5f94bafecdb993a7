use clap::Parser;
use server::settings::{Cli, Command};
use server::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    server::telemetry::init(cli.settings.log_format);
    match cli.command {
        Some(Command::Generate(args)) => return exit(server::tools::generate::run(args).await),
        Some(Command::Receive(args)) => return exit(server::tools::receive::run(args).await),
        None => {}
    }
    match Application::build(cli.settings).await {
        Ok(app) => match app.run_until_stopped().await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "server stopped with an error");
                std::process::ExitCode::FAILURE
            }
        },
        Err(e) => {
            // Start-up errors name the setting at fault; print them plainly too.
            tracing::error!(error = %e, "cannot start");
            eprintln!("data-streaming: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn exit(result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("data-streaming: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
