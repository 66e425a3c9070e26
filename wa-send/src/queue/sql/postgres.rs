//! PostgreSQL: a connection pool; each write is one transaction (`READ COMMITTED`), claims
//! take their rows with `FOR UPDATE SKIP LOCKED`, so several replicas share one queue.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Row as _, TypeInfo, ValueRef};

use super::{Arg, Cell, Conn, DatabaseOptions, Engine, Row, Work, db_error};
use crate::queue::StoreError;

#[derive(Clone)]
pub(super) struct PgDb {
    pool: PgPool,
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for a in args {
        q = match *a {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
        };
    }
    q
}

fn cells(row: &sqlx::postgres::PgRow) -> Result<Row, StoreError> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i).map_err(db_error)?;
        let cell = if raw.is_null() {
            Cell::Null
        } else {
            match raw.type_info().name() {
                "INT8" => Cell::Int(row.try_get::<i64, _>(i).map_err(db_error)?),
                "INT4" => Cell::Int(i64::from(row.try_get::<i32, _>(i).map_err(db_error)?)),
                "INT2" => Cell::Int(i64::from(row.try_get::<i16, _>(i).map_err(db_error)?)),
                "BOOL" => Cell::Int(i64::from(row.try_get::<bool, _>(i).map_err(db_error)?)),
                _ => Cell::Text(row.try_get::<String, _>(i).map_err(db_error)?),
            }
        };
        out.push(cell);
    }
    Ok(Row(out))
}

#[async_trait]
impl Conn for PgConnection {
    fn engine(&self) -> Engine {
        Engine::Postgres
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

impl PgDb {
    pub(super) async fn connect(url: &str, options: DatabaseOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(db_error)?;
        Ok(PgDb { pool })
    }

    pub(super) async fn read<T: Send + 'static>(&self, work: Work<T>) -> Result<T, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        work(&mut *conn).await
    }

    /// One transaction per write on a pooled connection.
    ///
    /// Group commit (as on SQLite) was tried here and dropped: a group holds every unit's
    /// row locks until its commit, so concurrent groups deadlocked each other and every
    /// deadlock cost PostgreSQL's one-second `deadlock_timeout`.
    pub(super) async fn write<T: Send + 'static>(&self, work: Work<T>) -> Result<T, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        match work(&mut *tx).await {
            Ok(v) => {
                tx.commit().await.map_err(db_error)?;
                Ok(v)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    pub(super) async fn migrate(
        &self,
        migrator: sqlx::migrate::Migrator,
    ) -> Result<(), StoreError> {
        // The migrator takes an advisory lock: replicas starting together apply each
        // migration once.
        migrator.run(&self.pool).await.map_err(db_error)
    }
}
