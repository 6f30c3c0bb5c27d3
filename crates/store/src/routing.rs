//! Migration between vendors (PRODUCT §12): the customer map (each
//! customer's reference at each "provider:account" target) and the record
//! of which routing rule and target made a session.
//!
//! A put replaces a customer's whole map in one transaction that first
//! upserts the customer's `customers` row: on PostgreSQL that row's lock
//! makes concurrent puts of one customer follow one another (on SQLite the
//! database's write lock does), so a reader sees one put's map whole, never
//! a mix of two. A customer put with an empty map is kept as its
//! `customers` row alone: known, with no references.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::feed::placeholders;
use crate::{now_ms, Store, StoreError};

/// One customer's references, keyed "provider:account".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRefs {
    pub customer: String,
    pub references: BTreeMap<String, String>,
    /// When the mapping was last written (unix ms).
    pub updated_ms: i64,
}

/// Version 1 is a new customer; the upsert locks the row either way.
const UPSERT_CUSTOMER: &str = "\
INSERT INTO customers (customer, version, updated_ms) VALUES ($1, 1, $2)
ON CONFLICT (customer) DO UPDATE SET version = customers.version + 1, updated_ms = excluded.updated_ms
RETURNING version";

const DELETE_REFS: &str = "DELETE FROM customer_refs WHERE customer = $1";

const DELETE_CUSTOMER: &str = "DELETE FROM customers WHERE customer = $1";

/// A page of references is written per statement: 4 parameters a row keeps
/// it far below SQLite's oldest limit of 999 parameters.
const REFS_PER_INSERT: usize = 200;

// One statement each: a reader sees one committed map, even while a put
// replaces it (the LEFT JOIN keeps a customer with no references).
const CUSTOMER: &str = "\
SELECT c.customer, c.updated_ms, r.target, r.reference
FROM customers c LEFT JOIN customer_refs r ON r.customer = c.customer
WHERE c.customer = $1
ORDER BY r.target";

const CUSTOMERS_FIRST: &str = "\
SELECT c.customer, c.updated_ms, r.target, r.reference
FROM (SELECT customer, updated_ms FROM customers ORDER BY customer LIMIT $1) c
LEFT JOIN customer_refs r ON r.customer = c.customer
ORDER BY c.customer, r.target";

const CUSTOMERS_AFTER: &str = "\
SELECT c.customer, c.updated_ms, r.target, r.reference
FROM (SELECT customer, updated_ms FROM customers WHERE customer > $1 ORDER BY customer LIMIT $2) c
LEFT JOIN customer_refs r ON r.customer = c.customer
ORDER BY c.customer, r.target";

const REFERENCE: &str = "\
SELECT reference FROM customer_refs WHERE customer = $1 AND target = $2";

const RECORD_ROUTE: &str = "\
INSERT INTO routed_sessions (session_id, rule, target, bucket, created_ms)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (session_id) DO NOTHING";

/// Which rule made a routed session, as [`Store::record_route`] kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub rule: String,
    /// "provider:account".
    pub target: String,
    /// The customer's bucket, when a split chose.
    pub bucket: Option<i64>,
}

const ROUTE_OF: &str = "SELECT rule, target, bucket FROM routed_sessions WHERE session_id = $1";

impl Store {
    /// Replace the customer's whole mapping in one transaction (delete its
    /// rows, insert the new ones). Returns whether the customer was new.
    pub async fn put_customer(
        &self,
        customer: &str,
        references: &BTreeMap<String, String>,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        // The upsert first: on SQLite a write takes the lock before any
        // read (so the busy timeout applies), on PostgreSQL it locks the
        // customer's row until commit.
        let mut tx = self.pool.begin().await?;
        let version: i64 = sqlx::query_scalar(UPSERT_CUSTOMER)
            .bind(customer)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(DELETE_REFS)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        insert_refs(&mut tx, customer, references, now).await?;
        tx.commit().await?;
        Ok(version == 1)
    }

    /// The customer's mapping, if the customer is known (an empty map is
    /// known: it was put with no references).
    pub async fn customer(&self, customer: &str) -> Result<Option<CustomerRefs>, StoreError> {
        let rows = sqlx::query(CUSTOMER)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?;
        Ok(customers_of(&rows)?.pop())
    }

    /// One reference, one indexed query (on every routed create).
    pub async fn customer_reference(
        &self,
        customer: &str,
        target: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(REFERENCE)
            .bind(customer)
            .bind(target)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Customers ordered by id, after `after` (exclusive), at most `limit`.
    pub async fn customers(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CustomerRefs>, StoreError> {
        let query = match after {
            None => sqlx::query(CUSTOMERS_FIRST).bind(limit.max(0)),
            Some(after) => sqlx::query(CUSTOMERS_AFTER).bind(after).bind(limit.max(0)),
        };
        let rows = query.fetch_all(&self.pool).await?;
        customers_of(&rows)
    }

    /// Whether there was a mapping to delete.
    pub async fn delete_customer(&self, customer: &str) -> Result<bool, StoreError> {
        // The customer's row first: a put running meanwhile waits for it.
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query(DELETE_CUSTOMER)
            .bind(customer)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(DELETE_REFS)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted > 0)
    }

    /// Which routing rule and target made a session (written at create;
    /// first write wins, a second is ignored). `bucket` is the sticky
    /// split's, when the rule split. Purged with the change feed's events
    /// ([`Store::purge_feed`]).
    pub async fn record_route(
        &self,
        session_id: &str,
        rule: &str,
        target: &str,
        bucket: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(RECORD_ROUTE)
            .bind(session_id)
            .bind(rule)
            .bind(target)
            .bind(bucket)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// (rule, target) of a routed session, if it was routed.
    pub async fn route_of(&self, session_id: &str) -> Result<Option<Route>, StoreError> {
        let row = sqlx::query(ROUTE_OF)
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Route {
                rule: row.try_get("rule")?,
                target: row.try_get("target")?,
                bucket: row.try_get("bucket")?,
            })
        })
        .transpose()
    }
}

/// Insert `references` of `customer`, a few hundred rows a statement.
async fn insert_refs(
    tx: &mut Transaction<'_, Any>,
    customer: &str,
    references: &BTreeMap<String, String>,
    now: i64,
) -> Result<(), StoreError> {
    let entries: Vec<(&String, &String)> = references.iter().collect();
    for chunk in entries.chunks(REFS_PER_INSERT) {
        let mut next = 1;
        let rows: Vec<String> = chunk
            .iter()
            .map(|_| format!("({})", placeholders(&mut next, 4)))
            .collect();
        let sql = format!(
            "INSERT INTO customer_refs (customer, target, reference, updated_ms) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (target, reference) in chunk {
            query = query
                .bind(customer)
                .bind(target.as_str())
                .bind(reference.as_str())
                .bind(now);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Customers from rows of (customer, updated_ms, target, reference), ordered
/// by customer; a customer with no references has one row of NULLs.
fn customers_of(rows: &[AnyRow]) -> Result<Vec<CustomerRefs>, StoreError> {
    let mut customers: Vec<CustomerRefs> = Vec::new();
    for row in rows {
        let customer: String = row.try_get("customer")?;
        if customers
            .last()
            .is_none_or(|last| last.customer != customer)
        {
            customers.push(CustomerRefs {
                customer,
                references: BTreeMap::new(),
                updated_ms: row.try_get("updated_ms")?,
            });
        }
        let target: Option<String> = row.try_get("target")?;
        let reference: Option<String> = row.try_get("reference")?;
        if let (Some(target), Some(reference), Some(current)) =
            (target, reference, customers.last_mut())
        {
            current.references.insert(target, reference);
        }
    }
    Ok(customers)
}
