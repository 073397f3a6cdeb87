//! `birgemiz-worker`: delivers the outbox and runs the schedules (relay, digests, reminders).

mod delivery;
mod error;
mod finisher;
mod mailer;
mod metrics;
mod render;
mod schedules;
mod settings;
mod smtp;
mod template;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_redis::Config as QueueConfig;
use birgemiz_schema::config::Config;
use birgemiz_schema::outbox::{self, OutboxJob};
use birgemiz_schema::{db, digests, redis_conn, startup};
use clap::{Parser, Subcommand};
use tokio::sync::watch;

use crate::delivery::{Deliverer, Outcome};
use crate::error::Error;
use crate::render::RenderEnv;
use crate::schedules::Queue;
use crate::settings::Settings;

// Building a MIME message is many small allocations, which glibc's malloc serves more slowly
// than mimalloc (the digest benchmark, docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "birgemiz-worker",
    version,
    about = "Birgemiz background worker: email delivery, digests, reminders"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Consume the email queue and run the schedules until SIGTERM/SIGINT (the default)
    Run,
    /// Start one digest run now and exit once it is queued
    DigestNow,
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command.unwrap_or(Command::Run) {
        Command::Run => run().await,
        Command::DigestNow => digest_now().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            tracing::error!("{reason}");
            eprintln!("birgemiz-worker: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// A name no other process (or earlier life of this one) has used, as apalis requires.
fn unique_worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
    let nonce: u32 = rand::random();
    format!("{host}-{}-{nonce:08x}", std::process::id())
}

async fn shutdown_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

async fn run() -> Result<(), Error> {
    let config = Config::from_env().map_err(Error::Config)?;
    let settings = Settings::from_env()?;
    let (schedule, tz) = schedules::digest_schedule(&config.digest_schedule, &config.timezone)?;
    let concurrency = config.worker_concurrency;
    let pool = startup::retry("postgres", config.startup_timeout, || {
        db::connect_with(&config.database_url, concurrency as u32 + 4, config.pool)
    })
    .await?;
    let redis = startup::retry("redis", config.startup_timeout, || {
        redis_conn::connect(&config.redis_url, Duration::from_secs(5))
    })
    .await?;
    let transport = mailer::transport(&config.smtp_url, concurrency as u32)?;
    let from = config.mail_from.parse().map_err(|e| {
        Error::Config(format!(
            "MAIL_FROM {:?} is not a mailbox: {e}",
            config.mail_from
        ))
    })?;
    let worker_name = unique_worker_name();
    let metrics = Arc::new(metrics::Metrics::default());
    metrics::start(
        settings.metrics_bind.as_deref(),
        metrics.clone(),
        pool.clone(),
        redis.clone(),
    )
    .await?;
    let deliverer = Arc::new(Deliverer {
        pool: pool.clone(),
        transport,
        from,
        render_env: RenderEnv {
            links: birgemiz_schema::links::Links::of(&config),
            app_secret: config.app_secret.clone(),
            timezone: tz,
        },
        settings: settings.clone(),
        worker_name: worker_name.clone(),
        metrics,
        concurrency,
        sending: tokio::sync::Semaphore::new(concurrency),
        unrecorded: tokio::sync::Semaphore::new(delivery::UNRECORDED_PER_SLOT * concurrency),
        finisher: finisher::Finisher::start(
            pool.clone(),
            finisher::LeaseKeeper {
                lease: settings.lease,
                worker_name: worker_name.clone(),
            },
        ),
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    let queue = |redis: &redis::aio::ConnectionManager| Queue {
        redis: redis.clone(),
        namespace: config.redis_namespace.clone(),
    };
    let schedules = [
        tokio::spawn(schedules::relay_loop(
            pool.clone(),
            queue(&redis),
            settings.relay_interval,
            settings.repush_after,
            stop_rx.clone(),
        )),
        tokio::spawn(schedules::digest_loop(
            pool.clone(),
            queue(&redis),
            schedule,
            tz,
            stop_rx.clone(),
        )),
        tokio::spawn(schedules::reminders_loop(
            pool.clone(),
            queue(&redis),
            config.timezone.clone(),
            settings.reminder_interval,
            stop_rx.clone(),
        )),
        tokio::spawn(schedules::forensics_loop(
            pool.clone(),
            config.vote_forensics_retention,
            settings.forensics_interval,
            stop_rx.clone(),
        )),
    ];

    // A job carries up to JOB_IDS rows sent in parallel. While one job claims and renders its
    // rows (a good part of a job's time) and another waits for its last marks, the others keep
    // the sending slots busy: with only as many jobs as the slots need, they sat idle.
    let jobs = concurrency.div_ceil(outbox::JOB_IDS) + 5;
    // A new consumer can fetch only once its first heartbeat registered it, and apalis beats
    // every 30 s by default: a fresh (or restarted) worker would sit idle that long. PostgreSQL
    // keeps every result, so Redis keeps none.
    let queue_config = QueueConfig::default()
        .queue(outbox::queue_name(&config.redis_namespace))
        .batch_size(jobs)
        .heartbeat_interval(Duration::from_secs(2))
        .persist_results(false);
    let storage =
        outbox::job_storage(redis.clone(), &config.redis_namespace).with_config(queue_config);
    let poll = settings.poll_interval;
    tracing::info!(worker = %worker_name, concurrency, queue = %outbox::queue_name(&config.redis_namespace), "worker started");

    let (signal_tx, signal_rx) = watch::channel(false);
    tokio::spawn(async move {
        if let Err(e) = shutdown_signal().await {
            tracing::error!(error = %e, "cannot listen for signals; stopping");
        }
        signal_tx.send_replace(true);
    });
    // apalis ends a consumer on a Redis error (an outage, or a FLUSHALL that forgets its
    // registration) and its in-place restart does not re-register, so each life of the consumer
    // is a fresh Monitor under a fresh name. `run_with_signal` returns Ok even when the worker
    // died, hence the check of the signal rather than of the result.
    let mut generation = 0u32;
    let result = loop {
        let mut rx = signal_rx.clone();
        let signal = async move {
            rx.wait_for(|stop| *stop)
                .await
                .map(|_| ())
                .map_err(std::io::Error::other)
        };
        let name = format!("{worker_name}-{generation}");
        let (storage, deliverer) = (storage.clone(), deliverer.clone());
        let monitor = Monitor::new()
            .register(move |_| {
                WorkerBuilder::new(name.clone())
                    .backend(storage.clone().poll_with_interval(poll))
                    .concurrency(jobs)
                    .data(deliverer.clone())
                    .build(handle)
            })
            .shutdown_timeout(Duration::from_secs(30));
        let outcome = monitor.run_with_signal(signal).await;
        if *signal_rx.borrow() {
            break outcome;
        }
        tracing::warn!(
            ?outcome,
            "queue consumer stopped (Redis unreachable or reset?); restarting in 1 s"
        );
        let mut rx = signal_rx.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = rx.wait_for(|stop| *stop) => break Ok(()),
        }
        generation += 1;
    };
    stop_tx.send_replace(true);
    for task in schedules {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "a schedule task panicked");
        }
    }
    tracing::info!("worker stopped");
    result.map_err(|e| Error::Queue(e.to_string()))
}

async fn handle(job: OutboxJob, deliverer: Data<Arc<Deliverer>>) -> Result<(), BoxDynError> {
    // Errors are logged here and not returned: apalis's own retries are linear and live in Redis;
    // the outbox row (backoff in PostgreSQL, relay sweep) decides what is retried and when.
    // The delivery runs in its own task, awaited here: if apalis drops this future (its consumer
    // died with Redis), the send still finishes and records its answer instead of being cut
    // between the SMTP server's 250 and our commit, which would send it twice.
    let deliverer = Arc::clone(&deliverer);
    let ids = job.all_ids();
    let delivery = tokio::spawn(async move { deliverer.deliver(&ids).await });
    let outcomes = match delivery.await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            tracing::warn!(error = %e, "delivery task failed; the relay retries");
            return Ok(());
        }
    };
    for (id, outcome) in outcomes {
        match outcome {
            Ok(Outcome::Skipped) => tracing::trace!(outbox_id = id, "not claimable; skipped"),
            Ok(outcome) => tracing::debug!(outbox_id = id, ?outcome, "delivered"),
            Err(e) => {
                tracing::warn!(outbox_id = id, error = %e, "delivery interrupted; the relay retries")
            }
        }
    }
    Ok(())
}

async fn digest_now() -> Result<(), Error> {
    let config = Config::from_env().map_err(Error::Config)?;
    let pool = startup::retry("postgres", config.startup_timeout, || {
        db::connect_with(&config.database_url, 2, config.pool)
    })
    .await?;
    let redis = startup::retry("redis", config.startup_timeout, || {
        redis_conn::connect(&config.redis_url, Duration::from_secs(5))
    })
    .await?;
    let queue = Queue {
        redis,
        namespace: config.redis_namespace.clone(),
    };
    let (run, created) = {
        let mut conn = pool.get().await?;
        digests::start_manual_run(&mut conn).await?
    };
    schedules::fill_run(&pool, &queue, run.id).await?;
    let mut conn = pool.get().await?;
    let recipients = digests::find_run(&mut conn, run.id)
        .await?
        .map(|r| r.recipient_count)
        .unwrap_or_default();
    tracing::info!(run_id = run.id, created, recipients, "digest run queued");
    println!("{}", run.id);
    Ok(())
}
