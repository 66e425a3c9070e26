//! Group commit for SQLite: one writer task owns the writing connection,
//! drains whatever write transactions are waiting and runs them all in one
//! `BEGIN … COMMIT`, each under its own savepoint (so one unit's failure rolls back only
//! that unit). Many concurrent writers then share one commit and one flush, and every
//! result is returned only once its commit is durable.
//!
//! This also means no connection ever upgrades a read to a write (`SQLITE_BUSY_SNAPSHOT`
//! cannot happen inside the process). PostgreSQL does not use it: a group holds every
//! unit's row locks until its commit, so concurrent groups (several writers, or several
//! replicas) deadlocked each other, each deadlock costing PostgreSQL's one-second
//! `deadlock_timeout`; row-level concurrency does better there.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{Conn, Work};
use crate::BoxFuture;
use crate::queue::StoreError;

/// Most transactions the writer commits at once.
pub(super) const MAX_GROUP: usize = 512;

type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// One transaction's work with the channel its result goes back on.
trait Unit: Send {
    /// Runs the work; returns whether it failed and how to deliver the result once the
    /// commit's outcome is known.
    fn run<'c>(self: Box<Self>, conn: &'c mut dyn Conn) -> BoxFuture<'c, (bool, Reply)>;
    /// Delivers `error` without running the work.
    fn abort(self: Box<Self>, error: String);
}

struct Typed<T> {
    work: Work<T>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T: Send + 'static> Unit for Typed<T> {
    fn run<'c>(self: Box<Self>, conn: &'c mut dyn Conn) -> BoxFuture<'c, (bool, Reply)> {
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

/// Work that needs the concrete connection and runs outside any transaction
/// (migrations).
pub(super) type RawWork<C> = Box<dyn for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, ()> + Send>;

enum Task<C> {
    /// Runs inside the group's transaction.
    Tx(Box<dyn Unit>),
    /// Runs alone, outside any transaction.
    Raw(RawWork<C>),
}

/// Opens a fresh writing connection when the current one is lost (a database restart).
pub(super) type Reconnect<C> =
    Box<dyn Fn() -> BoxFuture<'static, Result<C, StoreError>> + Send + Sync>;

/// The handle of a writer task.
pub(super) struct Writer<C> {
    tasks: mpsc::Sender<Task<C>>,
}

impl<C> Clone for Writer<C> {
    fn clone(&self) -> Self {
        Writer {
            tasks: self.tasks.clone(),
        }
    }
}

/// Whether `e` is SQLite's "busy"/"locked", which only another process on the same file
/// causes: waited out briefly.
fn is_busy(e: &StoreError) -> bool {
    let StoreError::Backend(b) = e else {
        return false;
    };
    matches!(b.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::Database(d))
        if matches!(d.code().as_deref(), Some("5" | "6" | "517" | "261" | "262")))
}

async fn run(conn: &mut dyn Conn, sql: &str) -> Result<(), String> {
    let mut delay = Duration::from_millis(5);
    for attempt in 0.. {
        match conn.execute(sql, &[]).await {
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

/// Commits `units` in the transaction just begun (a savepoint each when there are
/// several).
async fn commit_group(conn: &mut dyn Conn, units: Vec<Box<dyn Unit>>) {
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
        if failed && let Err(e) = run(conn, "ROLLBACK TO SAVEPOINT unit").await {
            error = Some(e);
        }
        if let Err(e) = run(conn, "RELEASE SAVEPOINT unit").await {
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

/// The next unit of work: a raw task alone, or every waiting transaction (up to
/// [`MAX_GROUP`]) for one group. Writers sharing a queue take turns at it.
async fn next_batch<C>(
    tasks: &Mutex<mpsc::Receiver<Task<C>>>,
    pending: &mut Option<Task<C>>,
) -> Option<Result<Vec<Box<dyn Unit>>, RawWork<C>>> {
    let mut rx = tasks.lock().await;
    let first = match pending.take() {
        Some(t) => t,
        None => rx.recv().await?,
    };
    let j = match first {
        Task::Raw(work) => return Some(Err(work)),
        Task::Tx(j) => j,
    };
    let mut group = vec![j];
    while group.len() < MAX_GROUP {
        match rx.try_recv() {
            Ok(Task::Tx(j)) => group.push(j),
            Ok(raw @ Task::Raw(_)) => {
                *pending = Some(raw);
                break;
            }
            Err(_) => break,
        }
    }
    Some(Ok(group))
}

async fn writer<C: Conn + 'static>(
    mut conn: C,
    begin: &'static str,
    reconnect: Option<Arc<Reconnect<C>>>,
    tasks: Arc<Mutex<mpsc::Receiver<Task<C>>>>,
) {
    let mut pending: Option<Task<C>> = None;
    loop {
        let Some(batch) = next_batch(&tasks, &mut pending).await else {
            return;
        };
        match batch {
            Err(work) => work(&mut conn).await,
            Ok(group) => {
                // A connection that cannot even begin (the database restarted) is
                // replaced, once, before the group is given up.
                let mut begun = run(&mut conn, begin).await;
                if begun.is_err()
                    && let Some(fresh) = &reconnect
                    && let Ok(c) = fresh().await
                {
                    conn = c;
                    begun = run(&mut conn, begin).await;
                }
                match begun {
                    Ok(()) => commit_group(&mut conn, group).await,
                    Err(e) => {
                        for u in group {
                            u.abort(e.clone());
                        }
                    }
                }
            }
        }
    }
}

impl<C: Conn + 'static> Writer<C> {
    /// Spawns one writer task per connection of `conns` (one for SQLite; a few for
    /// PostgreSQL, which runs their groups in parallel), all serving one queue; `begin`
    /// opens their transactions (`BEGIN IMMEDIATE` on SQLite, `BEGIN` on PostgreSQL).
    pub(super) fn spawn(
        conns: Vec<C>,
        begin: &'static str,
        reconnect: Option<Reconnect<C>>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(8 * MAX_GROUP);
        let rx = Arc::new(Mutex::new(rx));
        let reconnect = reconnect.map(Arc::new);
        for conn in conns {
            tokio::spawn(writer(conn, begin, reconnect.clone(), rx.clone()));
        }
        Writer { tasks: tx }
    }

    async fn submit<T>(
        &self,
        task: Task<C>,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let stopped = || StoreError::backend("the database writer has stopped");
        self.tasks.send(task).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs `work` in the next group's transaction; returns once that group committed.
    pub(super) async fn write<T: Send + 'static>(&self, work: Work<T>) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Task::Tx(Box::new(Typed { work, reply })), answer)
            .await
    }

    /// Runs `work` alone on the writing connection, outside any transaction.
    pub(super) async fn raw<T: Send + 'static>(
        &self,
        work: impl for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let task: RawWork<C> = Box::new(move |conn| {
            Box::pin(async move {
                let _ = reply.send(work(conn).await);
            })
        });
        self.submit(Task::Raw(task), answer).await
    }
}
