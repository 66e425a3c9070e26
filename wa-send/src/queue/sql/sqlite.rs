//! SQLite: one file in WAL mode, a pool of read-only connections, and one writer task that
//! owns the only writing connection.
//!
//! Every write transaction goes to the writer ([`super::group`]: group commit in
//! `BEGIN IMMEDIATE … COMMIT`), so no connection ever upgrades a read to a write and
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
use sqlx::{ConnectOptions, Row as _, TypeInfo, ValueRef};

use super::group::Writer;
use super::{Arg, Cell, Conn, DatabaseOptions, Engine, Row, Work, db_error};
use crate::queue::StoreError;

#[derive(Clone)]
pub(super) struct SqliteDb {
    read: SqlitePool,
    writer: Writer<SqliteConnection>,
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
        Ok(SqliteDb {
            read,
            writer: Writer::spawn(vec![conn], "BEGIN IMMEDIATE", None),
        })
    }

    pub(super) async fn write<T: Send + 'static>(&self, work: Work<T>) -> Result<T, StoreError> {
        self.writer.write(work).await
    }

    pub(super) async fn read<T: Send + 'static>(&self, work: Work<T>) -> Result<T, StoreError> {
        let mut conn = self.read.acquire().await.map_err(db_error)?;
        work(&mut *conn).await
    }

    pub(super) async fn migrate(
        &self,
        migrator: sqlx::migrate::Migrator,
    ) -> Result<(), StoreError> {
        self.writer
            .raw(move |conn| {
                Box::pin(async move { migrator.run_direct(conn).await.map_err(db_error) })
            })
            .await
    }
}
