use clap::Parser;
use server::settings::Cli;
use server::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    server::telemetry::init(cli.settings.log_format);
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
