//! Configuration changes between instances on one PostgreSQL (`LISTEN/NOTIFY`): the
//! instance that applied a change notifies, every other one reloads the account. SQLite is
//! one instance's: nothing to tell.

use sqlx::postgres::PgListener;

use crate::db::{Db, DbBackend, DbError};

const CHANNEL: &str = "ds_configuration";

/// A change another instance applied: reload this account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Account(i64),
    /// The connection was lost and made again: notifications may have been missed.
    Everything,
}

impl Db {
    /// Tells the other instances that `account_id`'s configuration changed (`instance`: the
    /// sender, which ignores its own notification).
    pub async fn notify_configuration(
        &self,
        instance: &str,
        account_id: i64,
    ) -> Result<(), DbError> {
        if self.backend() != DbBackend::Postgres {
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{instance} {account_id}"))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The other instances' changes, on Postgres; `None` on SQLite.
    pub async fn configuration_changes(
        &self,
        instance: &str,
    ) -> Result<Option<ConfigurationChanges>, DbError> {
        if self.backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let mut listener = PgListener::connect(self.url())
            .await
            .map_err(DbError::Connect)?;
        listener.listen(CHANNEL).await?;
        Ok(Some(ConfigurationChanges {
            listener,
            instance: instance.to_string(),
        }))
    }
}

pub struct ConfigurationChanges {
    listener: PgListener,
    instance: String,
}

impl ConfigurationChanges {
    /// The next change of another instance (the listener reconnects by itself).
    pub async fn next(&mut self) -> Result<Change, DbError> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Change::Everything);
            };
            let Some((sender, account)) = notification.payload().split_once(' ') else {
                continue;
            };
            if sender == self.instance {
                continue;
            }
            if let Ok(account_id) = account.parse() {
                return Ok(Change::Account(account_id));
            }
        }
    }
}
