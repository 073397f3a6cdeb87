//! The subcommands (docs/architecture.md, "Binaries").

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
    /// Print where email links point: the frontend routes `FRONTEND_URL` must serve, or that
    /// emails carry no links to content pages without one.
    FrontendRoutes,
    /// Give an existing user the ADMIN role.
    MakeAdmin { email: String },
    /// Recompute a frozen results document's ranking from the document alone and say whether
    /// it matches; exits non-zero when it does not. Takes the `resultSnapshot.url` or a file.
    VerifyResults { source: String },
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { no_migrate: false });
    if let Command::PrintSchema = command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    if let Command::VerifyResults { source } = &command {
        return verify_results(source).await;
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
        Command::FrontendRoutes => {
            print_frontend_routes(&config);
            Ok(())
        }
        Command::PrintSchema | Command::VerifyResults { .. } => {
            unreachable!("handled before configuration is read")
        }
    }
}

fn print_frontend_routes(config: &Config) {
    match &config.frontend_url {
        Some(f) => println!("Email links open the frontend at {f}; it must serve:"),
        None => println!(
            "FRONTEND_URL is not set: emails link to the api's own pages ({}/auth/link, \
             /subscriptions/confirm, /unsubscribe) and carry no links to projects, posts or \
             awards. A frontend at FRONTEND_URL must serve:",
            config.public_url
        ),
    }
    for (route, what) in birgemiz_schema::links::FRONTEND_ROUTES {
        println!("  {route:<34} {what}");
    }
}

/// Reads the document (over HTTP or from a file), verifies it and prints the verdict.
async fn verify_results(source: &str) -> anyhow::Result<()> {
    let bytes = if source.starts_with("http://") || source.starts_with("https://") {
        let resp = reqwest::get(source)
            .await
            .with_context(|| format!("GET {source}"))?;
        if !resp.status().is_success() {
            bail!("GET {source}: {}", resp.status());
        }
        resp.bytes().await.context("reading the document")?.to_vec()
    } else {
        std::fs::read(source).with_context(|| format!("reading {source}"))?
    };
    let mut report = birgemiz_schema::results::verify(&bytes);
    // A served document is named by its hash: the name must be the hash of what came back.
    let name = source.rsplit('/').next().unwrap_or_default();
    if let Some(named) = name.strip_suffix(".json").filter(|n| n.len() == 64)
        && named != report.sha256
    {
        report.problems.push(format!(
            "named {named} but its SHA-256 is {}",
            report.sha256
        ));
    }
    println!("sha256 {}", report.sha256);
    if report.matches() {
        println!(
            "MATCH: the ranking of {} categories follows from the document's inputs",
            report.categories
        );
        Ok(())
    } else {
        for p in &report.problems {
            println!("MISMATCH: {p}");
        }
        bail!(
            "the document does not verify ({} problems)",
            report.problems.len()
        )
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
