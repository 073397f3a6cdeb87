//! The subcommands of ARCHITECTURE.md.

use anyhow::{Context, bail};
use birgemiz_schema::config::Config;
use birgemiz_schema::{accounts, db};
use clap::{Parser, Subcommand};

use crate::{graphql, http, seed_demo, state::AppState};

#[derive(Parser)]
#[command(name = "birgemiz-api", version, about = "Birgemiz GraphQL API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default); runs pending migrations first.
    Serve {
        /// Do not run pending migrations before serving.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Run pending migrations and exit.
    Migrate,
    /// Load the demo data (idempotent).
    SeedDemo,
    /// Print the served GraphQL SDL.
    PrintSchema,
    /// Give an existing user the ADMIN role.
    MakeAdmin { email: String },
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { no_migrate: false });
    if let Command::PrintSchema = command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    let config = Config::from_env().map_err(anyhow::Error::msg)?;
    match command {
        Command::Serve { no_migrate } => {
            if !no_migrate {
                migrate(&config).await?;
            }
            let state = AppState::connect(config).await?;
            http::serve(state).await
        }
        Command::Migrate => migrate(&config).await,
        Command::SeedDemo => {
            let pool = db::connect(&config.database_url, 2).await?;
            seed_demo::run(&pool).await?;
            tracing::info!("demo data loaded");
            Ok(())
        }
        Command::MakeAdmin { email } => {
            let pool = db::connect(&config.database_url, 1).await?;
            let mut conn = pool.get().await.context("database connection")?;
            if !accounts::make_admin(&mut conn, &email).await? {
                bail!("no user with email {email}: sign up first, then run make-admin again");
            }
            println!("{email} is now an ADMIN");
            Ok(())
        }
        Command::PrintSchema => unreachable!("handled before configuration is read"),
    }
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let ran = birgemiz_schema::startup::retry("postgres", config.startup_timeout, || {
        db::run_migrations(&config.database_url)
    })
    .await?;
    tracing::info!(ran, "migrations up to date");
    Ok(())
}
