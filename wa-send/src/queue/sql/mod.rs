//! One SQL implementation of the queue on two engines.
//!
//! | piece | where | what it holds |
//! |---|---|---|
//! | [`Database`] | here | the engine behind one URL (`sqlite://…` or `postgres://…`), its read and write paths, migrations |
//! | [`Conn`], [`Arg`], [`Row`] | here | the few calls every statement needs, with `$1…$n` placeholders (both engines read them) |
//! | [`SqlStore`] | `store.rs` | every [`QueueStore`](super::QueueStore) method, written once against [`Conn`] |
//! | SQLite | `sqlite.rs` | WAL, one writer task that group-commits concurrent transactions (`BEGIN IMMEDIATE`), a read pool |
//! | PostgreSQL | `postgres.rs` | a pool; claims add `FOR UPDATE SKIP LOCKED` |
//!
//! Other components keep their own tables in the same database through
//! [`Database::read`] and [`Database::write`] (the reference server keeps accounts,
//! verifications and dedupe ids there), so one file or one PostgreSQL database holds all
//! state and SQLite never sees two writers.

mod group;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

use std::fmt;

use async_trait::async_trait;

pub use store::SqlStore;

use super::StoreError;
use crate::{BoxFuture, Timestamp};

/// Which engine a [`Database`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// SQLite (one file).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A statement parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Arg<'a> {
    /// A `TEXT` value or `NULL`.
    Text(Option<&'a str>),
    /// A `BIGINT` value or `NULL`.
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<u64> for Arg<'_> {
    fn from(v: u64) -> Self {
        Arg::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}

impl From<Option<u32>> for Arg<'_> {
    fn from(v: Option<u32>) -> Self {
        Arg::Int(v.map(i64::from))
    }
}

impl From<usize> for Arg<'_> {
    fn from(v: usize) -> Self {
        Arg::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}

impl From<Timestamp> for Arg<'_> {
    fn from(v: Timestamp) -> Self {
        Arg::from(v.as_millis())
    }
}

impl From<Option<Timestamp>> for Arg<'_> {
    fn from(v: Option<Timestamp>) -> Self {
        Arg::Int(v.map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX)))
    }
}

/// An owned statement parameter, for the one-statement calls [`Database::query`] and
/// [`Database::execute`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// A `TEXT` value or `NULL`.
    Text(Option<String>),
    /// A `BIGINT` value or `NULL`.
    Int(Option<i64>),
}

impl Value {
    /// The borrowed parameter.
    pub fn as_arg(&self) -> Arg<'_> {
        match self {
            Value::Text(t) => Arg::Text(t.as_deref()),
            Value::Int(i) => Arg::Int(*i),
        }
    }
}

impl<'a, T> From<T> for Value
where
    T: Into<Arg<'a>>,
{
    fn from(v: T) -> Self {
        match v.into() {
            Arg::Text(t) => Value::Text(t.map(str::to_owned)),
            Arg::Int(i) => Value::Int(i),
        }
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cell {
    /// `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Cell>);

fn column_error(i: usize, want: &str, got: &Cell) -> StoreError {
    StoreError::Corrupt {
        id: format!("column {i}"),
        detail: format!("expected {want}, found {got:?}"),
    }
}

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, StoreError> {
        self.0.get(i).ok_or_else(|| StoreError::Corrupt {
            id: format!("column {i}"),
            detail: "missing".to_owned(),
        })
    }

    /// Text or `NULL`.
    ///
    /// # Errors
    /// `store_corrupt` when the column holds something else.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            other => Err(column_error(i, "text", other)),
        }
    }

    /// Text.
    ///
    /// # Errors
    /// `store_corrupt` when the column is `NULL` or not text.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| column_error(i, "text", &Cell::Null))
    }

    /// An integer or `NULL`.
    ///
    /// # Errors
    /// `store_corrupt` when the column holds something else.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(n) => Ok(Some(*n)),
            other => Err(column_error(i, "integer", other)),
        }
    }

    /// An integer.
    ///
    /// # Errors
    /// `store_corrupt` when the column is `NULL` or not an integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?
            .ok_or_else(|| column_error(i, "integer", &Cell::Null))
    }

    /// A non-negative integer.
    ///
    /// # Errors
    /// As [`Row::int`].
    pub fn uint(&self, i: usize) -> Result<u64, StoreError> {
        Ok(u64::try_from(self.int(i)?).unwrap_or(0))
    }

    /// A timestamp stored as Unix milliseconds, or `NULL`.
    ///
    /// # Errors
    /// As [`Row::opt_int`].
    pub fn opt_ts(&self, i: usize) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .opt_int(i)?
            .map(|n| Timestamp::from_millis(u64::try_from(n).unwrap_or(0))))
    }

    /// A timestamp stored as Unix milliseconds.
    ///
    /// # Errors
    /// As [`Row::int`].
    pub fn ts(&self, i: usize) -> Result<Timestamp, StoreError> {
        Ok(Timestamp::from_millis(self.uint(i)?))
    }
}

/// A connection (inside a transaction for writes): statements with `$1…$n` placeholders.
#[async_trait]
pub trait Conn: Send {
    /// The engine, for the few statements that differ.
    fn engine(&self) -> Engine;

    /// Runs a statement; returns the rows it changed.
    ///
    /// # Errors
    /// `store_failed`.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError>;

    /// Runs a query; returns every row.
    ///
    /// # Errors
    /// `store_failed`.
    async fn fetch_all(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>, StoreError>;

    /// Runs a query; returns its first row.
    ///
    /// # Errors
    /// `store_failed`.
    async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }
}

/// A unit of database work: a closure over a connection, boxed so it can run on another
/// task (SQLite's writer).
pub type Work<T> =
    Box<dyn for<'c> FnOnce(&'c mut dyn Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send>;

/// The database behind one URL, shared by every component that keeps state in it.
#[derive(Clone)]
pub struct Database(Inner);

#[derive(Clone)]
enum Inner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteDb),
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgDb),
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Database").field(&self.engine()).finish()
    }
}

/// Options for [`Database::open_with`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct DatabaseOptions {
    /// Connections for reads (SQLite) or in all (PostgreSQL). Default 8.
    pub max_connections: u32,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions { max_connections: 8 }
    }
}

impl Database {
    /// Opens `url`: `sqlite://path` (or a bare path; created if missing) or
    /// `postgres://…`. Runs no migrations (see [`SqlStore::open`] and [`Database::migrate`]).
    ///
    /// # Errors
    /// `store_failed` when the URL names an engine this build lacks or it cannot connect.
    ///
    /// # Examples
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let url = format!("sqlite://{}", dir.path().join("q.db").display());
    /// let db = wa_send::queue::Database::open(&url).await.unwrap();
    /// assert_eq!(db.engine(), wa_send::queue::sql::Engine::Sqlite);
    /// # });
    /// ```
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, DatabaseOptions::default()).await
    }

    /// [`Database::open`] with options.
    ///
    /// # Errors
    /// As [`Database::open`].
    pub async fn open_with(url: &str, options: DatabaseOptions) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return Ok(Database(Inner::Postgres(
                postgres::PgDb::connect(url, options).await?,
            )));
            #[cfg(not(feature = "postgres"))]
            return Err(StoreError::backend(
                "this build has no PostgreSQL support (feature `postgres`)",
            ));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        #[cfg(feature = "sqlite")]
        return Ok(Database(Inner::Sqlite(
            sqlite::SqliteDb::open(std::path::Path::new(path), options).await?,
        )));
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = (path, options);
            Err(StoreError::backend(
                "this build has no SQLite support (feature `sqlite`)",
            ))
        }
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => Engine::Sqlite,
            #[cfg(feature = "postgres")]
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs `work` on a connection for reading (on SQLite, one of the read pool's; never
    /// the writer).
    ///
    /// # Errors
    /// `store_failed`, or `work`'s error.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Conn) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(db) => db.read(Box::new(work)).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(db) => db.read(Box::new(work)).await,
        }
    }

    /// Runs `work` in one write transaction: committed when it returns `Ok`, rolled back
    /// when it returns `Err`. On SQLite, concurrent transactions are committed together by
    /// the one writer (group commit, `BEGIN IMMEDIATE`), so writers never see
    /// `database is locked`; the result is returned only once it is durable.
    ///
    /// # Errors
    /// `store_failed`, or `work`'s error.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Conn) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(db) => db.write(Box::new(work)).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(db) => db.write(Box::new(work)).await,
        }
    }

    /// Runs one read-only statement and returns its rows.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn query(&self, sql: &'static str, args: Vec<Value>) -> Result<Vec<Row>, StoreError> {
        self.read(move |c| {
            Box::pin(async move {
                let args: Vec<Arg<'_>> = args.iter().map(Value::as_arg).collect();
                c.fetch_all(sql, &args).await
            })
        })
        .await
    }

    /// Runs one statement that writes and returns rows (`… RETURNING …`) in its own write
    /// transaction.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn query_write(
        &self,
        sql: &'static str,
        args: Vec<Value>,
    ) -> Result<Vec<Row>, StoreError> {
        self.write(move |c| {
            Box::pin(async move {
                let args: Vec<Arg<'_>> = args.iter().map(Value::as_arg).collect();
                c.fetch_all(sql, &args).await
            })
        })
        .await
    }

    /// Runs one writing statement (`… RETURNING …` allowed) on its own, returning its
    /// rows: on PostgreSQL in autocommit (one round trip, no `BEGIN`/`COMMIT`), on SQLite
    /// through the writer. For statements that are atomic alone, such as an upsert.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn write_one(
        &self,
        sql: &'static str,
        args: Vec<Value>,
    ) -> Result<Vec<Row>, StoreError> {
        let work: Work<Vec<Row>> = Box::new(move |c| {
            Box::pin(async move {
                let args: Vec<Arg<'_>> = args.iter().map(Value::as_arg).collect();
                c.fetch_all(sql, &args).await
            })
        });
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(db) => db.write(work).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(db) => db.read(work).await,
        }
    }

    /// Runs one statement in its own write transaction and returns the rows it changed.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn execute(&self, sql: &'static str, args: Vec<Value>) -> Result<u64, StoreError> {
        self.write(move |c| {
            Box::pin(async move {
                let args: Vec<Arg<'_>> = args.iter().map(Value::as_arg).collect();
                c.execute(sql, &args).await
            })
        })
        .await
    }

    /// Applies `migrator`'s migrations that are not applied yet. Several components keep
    /// their migrations in one database, so versions applied by others are ignored (give
    /// each component its own version range; wa-send uses 1–999). On PostgreSQL an
    /// advisory lock makes concurrent starts safe.
    ///
    /// # Errors
    /// `store_failed` when a migration fails.
    pub async fn migrate(&self, mut migrator: sqlx::migrate::Migrator) -> Result<(), StoreError> {
        migrator.set_ignore_missing(true);
        match &self.0 {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(db) => db.migrate(migrator).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(db) => db.migrate(migrator).await,
        }
    }

    /// Checks that the database answers (a `SELECT 1`).
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| Box::pin(async move { c.fetch_all("SELECT 1", &[]).await.map(drop) }))
            .await
    }
}

pub(crate) fn db_error(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}
