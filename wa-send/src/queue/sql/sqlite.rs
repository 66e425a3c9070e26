//! SQLite: one file in WAL mode, a pool of read-only connections, and one writer task that
//! owns the only writing connection.
//!
//! Every write transaction goes to the writer, which drains whatever is waiting and runs
//! it all in one `BEGIN IMMEDIATE … COMMIT` (each unit under its own savepoint, so one
//! unit's failure rolls back only that unit): many concurrent writers share one fsync
//! (group commit), and no connection ever upgrades a read to a write, so
//! `SQLITE_BUSY_SNAPSHOT` ("database is locked") cannot happen inside the process.
//! `synchronous=FULL`: a result is returned only once its commit is on disk.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Executor, Row as _, TypeInfo, ValueRef};
use tokio::sync::{mpsc, oneshot};

use super::{Arg, Cell, Conn, DatabaseOptions, Engine, Row, Work, db_error};
use crate::BoxFuture;
use crate::queue::StoreError;

/// Most transactions the writer commits at once.
const MAX_GROUP: usize = 512;

type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// One transaction's work with the channel its result goes back on.
trait Unit: Send {
    /// Runs the work; returns whether it failed and how to deliver the result once the
    /// commit's outcome is known.
    fn run(self: Box<Self>, conn: &mut SqliteConnection) -> BoxFuture<'_, (bool, Reply)>;
    /// Delivers `error` without running the work.
    fn abort(self: Box<Self>, error: String);
}

struct Typed<T> {
    work: Work<T>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T: Send + 'static> Unit for Typed<T> {
    fn run(self: Box<Self>, conn: &mut SqliteConnection) -> BoxFuture<'_, (bool, Reply)> {
        let Typed { work, reply } = *self;
        Box::pin(async move {
            let result = work(conn).await;
            let failed = result.is_err();
            let reply: Reply = Box::new(move |commit: Result<(), String>| {
                let _ = reply.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(StoreError::backend(e)),
                });
            });
            (failed, reply)
        })
    }

    fn abort(self: Box<Self>, error: String) {
        let _ = self.reply.send(Err(StoreError::backend(error)));
    }
}

/// Migrations: they need the concrete connection and run outside any transaction.
struct Migrate {
    migrator: sqlx::migrate::Migrator,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

impl Unit for Migrate {
    fn run(self: Box<Self>, conn: &mut SqliteConnection) -> BoxFuture<'_, (bool, Reply)> {
        Box::pin(async move {
            let result = self.migrator.run_direct(&mut *conn).await.map_err(db_error);
            let failed = result.is_err();
            let reply = self.reply;
            let reply: Reply = Box::new(move |_| {
                let _ = reply.send(result);
            });
            (failed, reply)
        })
    }

    fn abort(self: Box<Self>, error: String) {
        let _ = self.reply.send(Err(StoreError::backend(error)));
    }
}

enum Task {
    /// Runs inside the group's transaction.
    Tx(Box<dyn Unit>),
    /// Runs alone, outside any transaction.
    Raw(Box<dyn Unit>),
}

#[derive(Clone)]
pub(super) struct SqliteDb {
    read: SqlitePool,
    writer: mpsc::Sender<Task>,
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for a in args {
        q = match *a {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
        };
    }
    q
}

fn cells(row: &sqlx::sqlite::SqliteRow) -> Result<Row, StoreError> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i).map_err(db_error)?;
        let cell = if raw.is_null() {
            Cell::Null
        } else if raw.type_info().name() == "TEXT" {
            Cell::Text(row.try_get::<String, _>(i).map_err(db_error)?)
        } else {
            Cell::Int(row.try_get::<i64, _>(i).map_err(db_error)?)
        };
        out.push(cell);
    }
    Ok(Row(out))
}

#[async_trait]
impl Conn for SqliteConnection {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let done = bind(sqlx::query(sql), args)
            .execute(&mut *self)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn fetch_all(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError> {
        let rows = bind(sqlx::query(sql), args)
            .fetch_all(&mut *self)
            .await
            .map_err(db_error)?;
        rows.iter().map(cells).collect()
    }
}

async fn run(conn: &mut SqliteConnection, sql: &str) -> Result<(), String> {
    // Busy can only come from another process on the same file; wait it out briefly.
    let mut delay = Duration::from_millis(5);
    for attempt in 0.. {
        match Executor::execute(&mut *conn, sql).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 8 && is_busy(&e) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(500));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("5" | "6" | "517" | "261" | "262")))
}

/// Commits `units` in one transaction (a savepoint each when there are several).
async fn commit_group(conn: &mut SqliteConnection, units: Vec<Box<dyn Unit>>) {
    if let Err(e) = run(conn, "BEGIN IMMEDIATE").await {
        for u in units {
            u.abort(e.clone());
        }
        return;
    }
    if units.len() == 1 {
        let unit = units.into_iter().next().expect("one unit");
        let (failed, reply) = unit.run(conn).await;
        if failed {
            // The only unit failed: nothing to commit; its own error is its result.
            let _ = run(conn, "ROLLBACK").await;
            reply(Ok(()));
            return;
        }
        let commit = run(conn, "COMMIT").await;
        if commit.is_err() {
            let _ = run(conn, "ROLLBACK").await;
        }
        reply(commit);
        return;
    }
    let mut replies = Vec::with_capacity(units.len());
    for u in units {
        if let Err(e) = run(conn, "SAVEPOINT unit").await {
            u.abort(e);
            continue;
        }
        let (failed, reply) = u.run(conn).await;
        let mut error = None;
        if failed && let Err(e) = run(conn, "ROLLBACK TO unit").await {
            error = Some(e);
        }
        if let Err(e) = run(conn, "RELEASE unit").await {
            error = Some(e);
        }
        replies.push((reply, error));
    }
    let commit = run(conn, "COMMIT").await;
    if commit.is_err() {
        let _ = run(conn, "ROLLBACK").await;
    }
    for (reply, error) in replies {
        reply(match (&commit, error) {
            (Err(e), _) => Err(e.clone()),
            (Ok(()), Some(e)) => Err(e),
            (Ok(()), None) => Ok(()),
        });
    }
}

async fn writer(mut conn: SqliteConnection, mut tasks: mpsc::Receiver<Task>) {
    let mut pending: Option<Task> = None;
    loop {
        let first = match pending.take() {
            Some(t) => t,
            None => match tasks.recv().await {
                Some(t) => t,
                None => return,
            },
        };
        match first {
            Task::Raw(u) => {
                let (_, reply) = u.run(&mut conn).await;
                reply(Ok(()));
            }
            Task::Tx(j) => {
                let mut group = vec![j];
                while group.len() < MAX_GROUP {
                    match tasks.try_recv() {
                        Ok(Task::Tx(j)) => group.push(j),
                        Ok(raw @ Task::Raw(_)) => {
                            pending = Some(raw);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit_group(&mut conn, group).await;
            }
        }
    }
}

impl SqliteDb {
    pub(super) async fn open(path: &Path, options: DatabaseOptions) -> Result<Self, StoreError> {
        let base = SqliteConnectOptions::from_str("sqlite://")
            .map_err(db_error)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a transaction that returned is on disk, so a crash loses nothing acknowledged.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let conn = base.connect().await.map_err(db_error)?;
        let read = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .connect_with(base.pragma("query_only", "ON"))
            .await
            .map_err(db_error)?;
        let (tx, rx) = mpsc::channel(8 * MAX_GROUP);
        tokio::spawn(writer(conn, rx));
        Ok(SqliteDb { read, writer: tx })
    }

    async fn submit<T>(
        &self,
        task: Task,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let stopped = || StoreError::backend("the SQLite writer has stopped");
        self.writer.send(task).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    pub(super) async fn write<T: Send + 'static>(&self, work: Work<T>) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Task::Tx(Box::new(Typed { work, reply })), answer)
            .await
    }

    pub(super) async fn read<T: Send + 'static>(&self, work: Work<T>) -> Result<T, StoreError> {
        let mut conn = self.read.acquire().await.map_err(db_error)?;
        work(&mut *conn).await
    }

    pub(super) async fn migrate(
        &self,
        migrator: sqlx::migrate::Migrator,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Task::Raw(Box::new(Migrate { migrator, reply })), answer)
            .await
    }
}
