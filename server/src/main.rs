use std::io::BufRead;

use backend::ops::demo;
use backend::{Clock, business};
use clap::{Parser, Subcommand};
use server::{Config, app_state, open_database, router, spawn_scheduler};
use tracing_subscriber::EnvFilter;

/// Tessera: membership and billing for clubs, studios and coworking spaces.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the app (the default).
    Serve {
        /// Load the demo club when the database has no business yet.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo club into an empty database.
    SeedDemo,
    /// Bill every membership due up to a date (each business's own date when
    /// omitted), then print what the run did. Safe to repeat.
    Bill {
        /// YYYY-MM-DD
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
    /// Check that every number adds up: billing against the events, invoice
    /// totals, payments and their allocations, refunds, credit balances.
    /// Prints what it finds; exits non-zero on any violation.
    Check,
    /// Time a billing run of many new memberships in a business of their own
    /// (in the database of DATABASE_URL; use a scratch one) beside the bare
    /// writes of as many rows, and print the ratio.
    BenchBilling {
        #[arg(long, default_value_t = 10_000)]
        memberships: i64,
        /// How many servers bill the run together: this one and the others,
        /// each with its own connection pool on a thread of its own.
        #[arg(long, default_value_t = 1)]
        servers: usize,
    },
    /// Build a business of many memberships (several types, a spread of
    /// statuses) and print p50/p95 of each membership list query beside a
    /// bare indexed `SELECT ... LIMIT 20` (in the database of DATABASE_URL;
    /// use a scratch one).
    BenchLists {
        #[arg(long, default_value_t = 100_000)]
        memberships: i64,
    },
    /// Time concurrent credit redemptions through the ledger beside a bare
    /// conditional-UPDATE loop doing the same writes, and print the ratio
    /// (in the database of DATABASE_URL; use a scratch one).
    BenchCredits {
        #[arg(long, default_value_t = 8)]
        tasks: usize,
        #[arg(long, default_value_t = 500)]
        per_task: usize,
    },
    /// Send the mail outbox's waiting messages by SMTP now (TESSERA_SMTP_URL
    /// and TESSERA_MAIL_FROM) and print how many went out.
    SendMail,
    /// Make an API key for the business of the owner with this email and
    /// print it (shown only now). Scopes: read_catalog, read_members,
    /// write_members, write_memberships, billing, credits (default: all).
    ApiKey {
        #[arg(long)]
        owner: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// Create a business and its first owner. The password is read from
    /// TESSERA_OWNER_PASSWORD or from the first line of standard input.
    CreateOwner {
        #[arg(long)]
        business: String,
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let json = std::env::var("TESSERA_LOG_FORMAT").is_ok_and(|f| f == "json");
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    if json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::from_env()?;
    let db = open_database(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let clock = Clock::system();
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Migrate => {
            println!("migrations applied ({})", db.kind());
            Ok(())
        }
        Command::Bill { date } => {
            let services = backend::Services::new(db, clock);
            bill(&services, date).await
        }
        Command::Check => {
            let services = backend::Services::new(db, clock);
            check(&services).await
        }
        Command::BenchBilling {
            memberships,
            servers,
        } => {
            let services = backend::Services::new(db, clock.clone());
            let mut helpers = Vec::new();
            for _ in 1..servers.max(1) {
                let db = open_database(&config.database_url)
                    .await
                    .map_err(|e| e.to_string())?;
                helpers.push(backend::Services::new(db, clock.clone()));
            }
            bench(&services, memberships, helpers).await
        }
        Command::BenchLists { memberships } => {
            let services = backend::Services::new(db, clock);
            bench_lists(&services, memberships).await
        }
        Command::BenchCredits { tasks, per_task } => {
            let services = backend::Services::new(db, clock);
            println!(
                "{tasks} tasks × {per_task} redemptions of one credit ({})…",
                services.db.kind()
            );
            let r = backend::ops::bench::bench_redemptions(&services, tasks, per_task)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "  ledger: {} accepted in {:.2?}, {:.0} redemptions/s",
                r.accepted,
                r.ledger,
                r.ledger_per_second()
            );
            println!(
                "  bare loop, the same writes (balance, lot, entry) as fixed SQL: {:.2?}, {:.0}/s",
                r.bare,
                r.bare_per_second()
            );
            println!(
                "  minimal loop (a balance and an entry in bare tables): {:.2?}, {:.0}/s",
                r.minimal,
                r.minimal_per_second()
            );
            println!("  ratio ledger / bare: {:.2}", r.ratio());
            println!("  ratio ledger / minimal: {:.2}", r.ratio_to_minimal());
            Ok(())
        }
        Command::SendMail => {
            let services = backend::Services::new(db, clock);
            let mailer = backend::platform::mail::Mailer::from_env()
                .map_err(|e| e.to_string())?
                .ok_or("set TESSERA_SMTP_URL (and TESSERA_MAIL_FROM) to send mail")?;
            let mut total = backend::platform::mail::SendReport::default();
            loop {
                let r = backend::platform::mail::send_waiting(&services, &mailer, 100)
                    .await
                    .map_err(|e| e.to_string())?;
                total.sent += r.sent;
                total.failed += r.failed;
                if r.sent + r.failed < 100 {
                    break;
                }
            }
            println!(
                "sent {}, failed {} (failed ones are tried again later)",
                total.sent, total.failed
            );
            Ok(())
        }
        Command::ApiKey {
            owner,
            name,
            scopes,
        } => {
            let services = backend::Services::new(db, clock);
            let scopes = if scopes.is_empty() {
                domain::api_keys::Scope::ALL
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect()
            } else {
                scopes
            };
            let form = domain::api_keys::ApiKeyForm { name, scopes };
            let created = backend::api_keys::create_for_owner_email(&services, &owner, &form)
                .await
                .map_err(|e| e.for_people())?;
            println!("{}", created.secret);
            Ok(())
        }
        Command::SeedDemo => {
            let state = app_state(&config, db, clock);
            seed(&state.services).await
        }
        Command::CreateOwner {
            business: name,
            time_zone,
            currency,
            email,
            name: owner_name,
        } => {
            let password = match std::env::var("TESSERA_OWNER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("password for {email}:");
                    let mut line = String::new();
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .map_err(|e| e.to_string())?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let services = backend::Services::new(db, clock);
            let new = business::NewBusiness {
                name: &name,
                time_zone: &time_zone,
                currency: &currency,
            };
            let (business_id, _) =
                business::create_owner(&services, &new, &email, &owner_name, &password)
                    .await
                    .map_err(|e| e.to_string())?;
            println!("created business {business_id} ({name}) with owner {email}");
            Ok(())
        }
        Command::Serve { demo } => {
            let mut state = app_state(&config, db, clock);
            let mailer = backend::platform::mail::Mailer::from_env().map_err(|e| e.to_string())?;
            state.services.mail_goes_out = mailer.is_some();
            if demo {
                seed(&state.services).await?;
            }
            spawn_scheduler(state.services.clone());
            match mailer {
                Some(mailer) => {
                    tracing::info!(?mailer, "sending the mail outbox by SMTP");
                    backend::platform::mail::spawn_sender(state.services.clone(), mailer);
                }
                None => tracing::info!("no TESSERA_SMTP_URL: mail stays in the outbox"),
            }
            let listener = tokio::net::TcpListener::bind(config.addr)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
            tracing::info!(addr = %config.addr, database = state.services.db.kind(), "serving");
            println!("Tessera is running on http://{}", config.addr);
            if demo {
                println!(
                    "Demo sign-in: {} / {}",
                    demo::DEMO_OWNER_EMAIL,
                    demo::DEMO_PASSWORD
                );
            }
            axum::serve(
                listener,
                router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| e.to_string())
        }
    }
}

async fn bill(services: &backend::Services, date: Option<chrono::NaiveDate>) -> Result<(), String> {
    let businesses = business::all(services).await.map_err(|e| e.to_string())?;
    let mut failed = 0;
    for b in businesses {
        let date = date.unwrap_or_else(|| services.today(&b));
        println!("{} ({}): billing up to {date}…", b.name, b.id);
        // A bar on a terminal; nothing when the output goes to a file.
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "  {bar:40} {pos}/{len} memberships, {msg} [{elapsed_precise}, {eta} left]",
            )
            .map_err(|e| e.to_string())?,
        );
        let shown = bar.clone();
        let progress = move |p: &backend::billing::Progress| {
            shown.set_length(p.total as u64);
            shown.set_position(p.done as u64);
            shown.set_message(format!("{} invoices, {} failed", p.invoices, p.failed));
        };
        let report = backend::billing::run_billing_with(
            services,
            b.id,
            date,
            "the command line",
            backend::billing::BATCH,
            &progress,
        )
        .await
        .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        println!(
            "  {} memberships, {} invoices written, {} failed",
            report.memberships,
            report.invoices,
            report.failed.len()
        );
        for (id, error) in &report.failed {
            println!("  membership {id}: {error}");
        }
        failed += report.failed.len();
    }
    if failed > 0 {
        Err(format!("{failed} memberships could not be billed"))
    } else {
        Ok(())
    }
}

async fn check(services: &backend::Services) -> Result<(), String> {
    let report = backend::ops::check::check(services)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "checked {} memberships, {} invoices, {} payments",
        report.memberships, report.invoices, report.payments
    );
    if report.projections_due > 0 {
        println!(
            "{} memberships' stored statuses wait for the daily work to recompute them (not compared)",
            report.projections_due
        );
    }
    for v in &report.violations {
        println!("  business {}: {}", v.business_id, v.message);
    }
    if report.violations.is_empty() {
        println!("every number adds up");
        Ok(())
    } else {
        Err(format!("{} violations", report.violations.len()))
    }
}

async fn bench(
    services: &backend::Services,
    memberships: i64,
    helpers: Vec<backend::Services>,
) -> Result<(), String> {
    if memberships < 1 {
        return Err("--memberships must be at least 1".into());
    }
    let start = services.clock.now().date_naive();
    println!(
        "billing {memberships} new monthly memberships on {} ({}, {} server{})…",
        start,
        services.db.kind(),
        helpers.len() + 1,
        if helpers.is_empty() { "" } else { "s" }
    );
    let r = backend::ops::bench::bench_billing(services, memberships, start, helpers)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "  setup (bulk insert of members, memberships, events): {:.2?}",
        r.setup
    );
    println!(
        "  billing run: {:.2?} for {} invoices ({} failed), {:.0} memberships/s",
        r.run,
        r.invoices,
        r.failed,
        r.memberships as f64 / r.run.as_secs_f64().max(1e-9)
    );
    println!(
        "  bare multi-row INSERTs of {} rows: {:.2?}",
        r.bare_rows, r.bare
    );
    println!("  ratio run / bare writes: {:.1}x", r.ratio());
    if !r.helped.is_empty() {
        let chunks = (r.memberships.max(0) as u64).div_ceil(backend::billing::BATCH.max(1) as u64);
        println!(
            "  chunks of {} memberships billed by the other servers: {:?} of {chunks}",
            backend::billing::BATCH,
            r.helped
        );
    }
    Ok(())
}

async fn bench_lists(services: &backend::Services, memberships: i64) -> Result<(), String> {
    if memberships < 1 {
        return Err("--memberships must be at least 1".into());
    }
    println!(
        "listing {memberships} memberships ({})…",
        services.db.kind()
    );
    let r = backend::ops::bench_lists::bench_lists(
        services,
        memberships,
        backend::ops::bench_lists::RUNS,
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("  setup (bulk insert): {:.2?}", r.setup);
    let bare: Vec<_> = r
        .timings
        .iter()
        .take_while(|t| t.name.starts_with("bare"))
        .cloned()
        .collect();
    for t in &r.timings {
        println!(
            "  {:<55} {:>4} rows  p50 {:>9.2?}  p95 {:>9.2?}  ({:.1}x the bare p95 of as many rows, as deep)",
            t.name,
            t.rows,
            t.p50,
            t.p95,
            t.over_bare(&bare)
        );
    }
    Ok(())
}

async fn seed(services: &backend::Services) -> Result<(), String> {
    match demo::seed_demo(services).await {
        Ok(true) => {
            println!("loaded the demo club (Harbour Athletic Club)");
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(e) => Err(format!("loading the demo data failed: {e}")),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
