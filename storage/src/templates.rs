//! Custom templates: rows of their own, shared by the account's streams. Every query names
//! its account; a write with an expected revision (the API's `If-Match`) changes only it.

use model::{CustomTemplate, ParsedTemplate};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, DbError, expect_row, now_millis};

impl Db {
    pub async fn templates(&self, account_id: i64) -> Result<Vec<CustomTemplate>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, data_source, data_set, revision FROM templates \
             WHERE account_id = $1 ORDER BY name, id",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        let users = sqlx::query(
            "SELECT id, name, template_id FROM streams \
             WHERE account_id = $1 AND template_id IS NOT NULL ORDER BY name",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        let mut templates = rows
            .iter()
            .map(template_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        for user in &users {
            let template_id: i64 = user.try_get("template_id")?;
            if let Some(template) = templates.iter_mut().find(|t| t.id == template_id) {
                template
                    .used_by
                    .push((user.try_get("id")?, user.try_get("name")?));
            }
        }
        Ok(templates)
    }

    pub async fn template(&self, account_id: i64, id: i64) -> Result<CustomTemplate, DbError> {
        self.templates(account_id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(DbError::NotFound)
    }

    pub async fn create_template(
        &self,
        account_id: i64,
        template: &ParsedTemplate,
    ) -> Result<i64, DbError> {
        let now = now_millis();
        Ok(sqlx::query(
            "INSERT INTO templates (account_id, name, data_source, data_set, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(account_id)
        .bind(template.name.as_str())
        .bind(template.data_source.as_str())
        .bind(&template.data_set)
        .bind(now)
        .fetch_one(self.pool())
        .await?
        .try_get("id")?)
    }

    /// Replaces a template (only at `expected_revision`, when given). Its streams keep it:
    /// a new data source is refused while streams of another source use it.
    pub async fn update_template(
        &self,
        account_id: i64,
        id: i64,
        template: &ParsedTemplate,
        expected_revision: Option<i64>,
    ) -> Result<(), DbError> {
        let current = self.template(account_id, id).await?;
        if expected_revision.is_some_and(|r| r != current.revision) {
            return Err(DbError::Stale);
        }
        if current.data_source != template.data_source && !current.used_by.is_empty() {
            return Err(DbError::InUse {
                what: "this template (its data source cannot change)",
                by: current.used_by.into_iter().map(|(_, name)| name).collect(),
            });
        }
        // The NOT EXISTS: a stream of another source may have linked it since the check.
        let updated = sqlx::query(
            "UPDATE templates SET name = $1, data_source = $2, data_set = $3, updated_at = $4, \
             revision = revision + 1 WHERE account_id = $5 AND id = $6 AND revision = $7 \
             AND NOT EXISTS (SELECT 1 FROM streams WHERE account_id = $5 AND template_id = $6 \
             AND data_source <> $2)",
        )
        .bind(template.name.as_str())
        .bind(template.data_source.as_str())
        .bind(&template.data_set)
        .bind(now_millis())
        .bind(account_id)
        .bind(id)
        .bind(current.revision)
        .execute(self.pool())
        .await?;
        // Changed by someone else between the read and the write.
        expect_row(updated).map_err(|_| DbError::Stale)
    }

    /// Deletes a template no stream uses.
    pub async fn delete_template(&self, account_id: i64, id: i64) -> Result<(), DbError> {
        let current = self.template(account_id, id).await?;
        if !current.used_by.is_empty() {
            return Err(DbError::InUse {
                what: "this template",
                by: current.used_by.into_iter().map(|(_, name)| name).collect(),
            });
        }
        // The NOT EXISTS keeps a stream saved meanwhile from losing its template.
        expect_row(
            sqlx::query(
                "DELETE FROM templates WHERE account_id = $1 AND id = $2 AND NOT EXISTS \
                 (SELECT 1 FROM streams WHERE account_id = $1 AND template_id = $2)",
            )
            .bind(account_id)
            .bind(id)
            .execute(self.pool())
            .await?,
        )
        .map_err(|_| DbError::InUse {
            what: "this template",
            by: vec!["a stream saved meanwhile".into()],
        })
    }
}

fn template_from_row(row: &AnyRow) -> Result<CustomTemplate, DbError> {
    let source: String = row.try_get("data_source")?;
    Ok(CustomTemplate {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        data_source: source
            .parse()
            .map_err(|_| DbError::Corrupt(format!("unknown data source {source:?}")))?,
        data_set: row.try_get("data_set")?,
        revision: row.try_get("revision")?,
        used_by: Vec::new(),
    })
}
