//! Where a create goes (PRODUCT §12). A create that names `provider` and
//! `account` goes there, its plan alias (if any) translated for that
//! account. A create that names neither is routed: the rules choose the
//! target (`routing` crate), its plan must be a catalog alias and its
//! customer is the caller's own id, both translated for the target before
//! anything is sent; a missing translation is a 422, never a create for
//! the wrong customer or plan. A fallback target is tried only when the
//! chosen one would refuse before any vendor call, so a routed create never
//! reaches two vendors; an `Idempotency-Key` retry stays at the target of
//! its first attempt.

use std::sync::Arc;
use std::time::Duration;

use checkout_core::{CreateSession, Error, ErrorCode, RequestContext};
use routing::{Decision, PlanFor, RouteError, Target};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Client;
use crate::idempotency::StoredResponse;
use crate::service::create::{self, Created};
use crate::state::AppState;
use crate::telemetry::routing::RoutedOutcome;

/// How a routed create reached its target, as its answer says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The rule's name, or `default`.
    pub rule: String,
    /// The customer's bucket (0..10000), when a split chose.
    pub bucket: Option<u16>,
    /// `provider:account`.
    pub target: String,
    /// Targets that refused before any vendor call, in the order tried.
    pub fell_back_from: Vec<String>,
}

/// What `POST /v1/routing/explain` answers: what a create with this body
/// would do, with nothing created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explained {
    /// `provider:account` the create would go to (the first choice; a
    /// fallback is used only if this one refuses before any vendor call).
    pub target: String,
    /// Whether routing chose (`false`: the body named provider and account).
    pub routed: bool,
    /// The rule's name, or `default`; `null` for a direct create.
    pub rule: Option<String>,
    /// The customer's bucket in 0..10000 when a split chose, else `null`.
    pub bucket: Option<u16>,
    /// The plan id sent to the target (an alias translated).
    pub plan: Option<String>,
    /// The customer reference sent to the target (a routed create's
    /// customer translated).
    pub customer: Option<String>,
    /// Tried in order if the target refuses before any vendor call.
    pub fallback: Vec<String>,
}

/// Create, routed or direct.
pub async fn create(
    state: Arc<AppState>,
    client: &Client,
    request: CreateSession,
    body: &[u8],
    ctx: RequestContext,
) -> Result<(Created, Option<Route>), Error> {
    if !request.is_routed() {
        let target = direct_target(&request);
        let resolved = for_target(&state, &request, &target, false).await?;
        let created = create::create(state, client, resolved, body, ctx).await?;
        return Ok((created, None));
    }
    let decision = decide(&state, &request, &ctx)?;
    let mut fell_back_from = Vec::new();
    // Owned, so the loop's future holds no borrowed iterator across awaits.
    let candidates: Vec<Target> = std::iter::once(decision.target.clone())
        .chain(decision.fallback.iter().cloned())
        .collect();
    for (i, target) in candidates.iter().enumerate() {
        if let Err(e) = usable(client, target, &decision) {
            state.metrics.routing.created(
                &decision.rule,
                &target.to_string(),
                RoutedOutcome::Failed,
            );
            return Err(e);
        }
        let last = i + 1 == candidates.len();
        let refuses = state
            .accounts
            .get(&(target.provider.clone(), target.account.clone()))
            .is_some_and(|account| account.guard.refuses_now());
        if refuses && !last {
            state.metrics.routing.created(
                &decision.rule,
                &target.to_string(),
                RoutedOutcome::Refused,
            );
            fell_back_from.push(target.to_string());
            continue;
        }
        let resolved = for_target(&state, &request, target, true).await?;
        let route = Route {
            rule: decision.rule.clone(),
            bucket: decision.bucket,
            target: target.to_string(),
            fell_back_from: fell_back_from.clone(),
        };
        let created = create::create(state.clone(), client, resolved, body, ctx.clone()).await;
        let created = match created {
            Ok(Created::Elsewhere(there)) => {
                create_where_first_tried(&state, client, &request, body, &ctx, &decision, &there)
                    .await
            }
            other => other.map(|created| (created, route)),
        };
        return finish(&state, &decision, target, created).await;
    }
    Err(Error::new(ErrorCode::Internal, "routing chose no target"))
}

/// The key's first attempt went to `there` (routing chose differently
/// since): the create is made there, where that attempt is looked for.
async fn create_where_first_tried(
    state: &Arc<AppState>,
    client: &Client,
    request: &CreateSession,
    body: &[u8],
    ctx: &RequestContext,
    decision: &Decision,
    there: &str,
) -> Result<(Created, Route), Error> {
    let target = Target::parse(there)
        .filter(|t| {
            state
                .accounts
                .contains_key(&(t.provider.clone(), t.account.clone()))
        })
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoRoute,
                format!(
                    "this Idempotency-Key's first create went to {there}, which is no longer configured; \
                     its outcome there is unknown, so nothing is created elsewhere under this key"
                ),
            )
        })?;
    usable(client, &target, decision)?;
    let resolved = for_target(state, request, &target, true).await?;
    match create::create(state.clone(), client, resolved, body, ctx.clone()).await? {
        // Moved again meanwhile: the client's retry sorts it out.
        Created::Elsewhere(_) => Err(Error::new(
            ErrorCode::IdempotencyInProgress,
            "another request with this Idempotency-Key is settling its first create; retry",
        )
        .with_retry_after(Some(Duration::from_secs(1)))),
        created => Ok((
            created,
            Route {
                rule: decision.rule.clone(),
                bucket: decision.bucket,
                target: target.to_string(),
                fell_back_from: Vec::new(),
            },
        )),
    }
}

/// Count the outcome and, for a new session, keep which rule made it (its
/// completion is counted against the rule when the change feed sees it).
async fn finish(
    state: &AppState,
    decision: &Decision,
    chosen: &Target,
    created: Result<(Created, Route), Error>,
) -> Result<(Created, Option<Route>), Error> {
    match created {
        Ok((Created::New(fetched), route)) => {
            state
                .metrics
                .routing
                .created(&route.rule, &route.target, RoutedOutcome::Created);
            record_route(state, &fetched.session.id, &route).await;
            Ok((Created::New(fetched), Some(route)))
        }
        // Answered before: say what made that answer's session, not what
        // routing would choose now.
        Ok((Created::Replayed(stored), _)) => {
            let route = replayed_route(state, &stored).await;
            Ok((Created::Replayed(stored), route))
        }
        Ok((created, route)) => Ok((created, Some(route))),
        Err(e) => {
            state.metrics.routing.created(
                &decision.rule,
                &chosen.to_string(),
                RoutedOutcome::Failed,
            );
            Err(e)
        }
    }
}

/// How long a create waits for its route to be kept.
const RECORD_ROUTE_WITHIN: Duration = Duration::from_secs(2);

async fn record_route(state: &AppState, session_id: &str, route: &Route) {
    let write = async {
        let store = state.idempotency.store().await.map_err(|e| e.message)?;
        store
            .record_route(
                session_id,
                &route.rule,
                &route.target,
                route.bucket.map(i64::from),
            )
            .await
            .map_err(|e| e.to_string())
    };
    let outcome = match tokio::time::timeout(RECORD_ROUTE_WITHIN, write).await {
        Ok(outcome) => outcome,
        Err(_) => Err("timed out".to_owned()),
    };
    if let Err(error) = outcome {
        // The session is made and answered; only its completion goes uncounted.
        tracing::warn!(%error, session = session_id, "keeping a routed session's rule failed");
    }
}

/// The route kept for a replayed answer's session; `None` for an answer
/// that made no session, or when the store cannot say.
async fn replayed_route(state: &AppState, stored: &StoredResponse) -> Option<Route> {
    let id = stored
        .location
        .as_deref()?
        .strip_prefix("/v1/checkout-sessions/")?;
    let store = state.idempotency.store().await.ok()?;
    let kept = store.route_of(id).await.ok()??;
    Some(Route {
        rule: kept.rule,
        bucket: kept.bucket.and_then(|b| u16::try_from(b).ok()),
        target: kept.target,
        fell_back_from: Vec::new(),
    })
}

/// What a create with this body would do: the same checks, nothing made.
pub async fn explain(
    state: &AppState,
    client: &Client,
    request: &CreateSession,
    ctx: &RequestContext,
) -> Result<Explained, Error> {
    if !request.is_routed() {
        let target = direct_target(request);
        state.account_for(client, &target.provider, &target.account)?;
        let resolved = for_target(state, request, &target, false).await?;
        return Ok(Explained {
            target: target.to_string(),
            routed: false,
            rule: None,
            bucket: None,
            plan: resolved.plan,
            customer: resolved.customer,
            fallback: Vec::new(),
        });
    }
    let decision = decide(state, request, ctx)?;
    usable(client, &decision.target, &decision)?;
    let resolved = for_target(state, request, &decision.target, true).await?;
    Ok(Explained {
        target: decision.target.to_string(),
        routed: true,
        rule: Some(decision.rule.clone()),
        bucket: decision.bucket,
        plan: resolved.plan,
        customer: resolved.customer,
        fallback: decision.fallback.iter().map(Target::to_string).collect(),
    })
}

fn direct_target(request: &CreateSession) -> Target {
    Target {
        provider: request.provider.clone(),
        account: request.account.clone(),
    }
}

/// The rules' choice for a routed create.
fn decide(
    state: &AppState,
    request: &CreateSession,
    ctx: &RequestContext,
) -> Result<Decision, Error> {
    if !state.routing.is_configured() {
        return Err(Error::invalid_request(
            "provider: required (this gateway has no routing rules to choose a vendor)",
        ));
    }
    let input = routing::Input {
        customer: request.customer.as_deref(),
        plan: request.plan.as_deref(),
        metadata: request.metadata.as_ref(),
        sticky_key: ctx.idempotency_key.as_deref(),
    };
    state.routing.decide(&input).map_err(|e| match e {
        RouteError::NoRoute => Error::new(
            ErrorCode::NoRoute,
            "no routing rule matches this create and routing.default is not set; \
             give provider and account, or add a rule",
        ),
        RouteError::NeedsCustomer { rule } => Error::invalid_request(format!(
            "customer: the rule `{rule}` splits by customer; give customer (or an Idempotency-Key to route by)"
        )),
    })
}

/// A routed create may only go where its client key may: a target outside
/// the key's accounts is refused before anything is sent.
fn usable(client: &Client, target: &Target, decision: &Decision) -> Result<(), Error> {
    if client.may_use(&target.provider, &target.account) {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::Forbidden,
        format!(
            "routing chose {target} (rule `{}`), which this client key may not use",
            decision.rule
        ),
    ))
}

/// The create as `target` takes it: provider and account set, a plan alias
/// translated and, when routed, the caller's customer translated.
async fn for_target(
    state: &AppState,
    request: &CreateSession,
    target: &Target,
    routed: bool,
) -> Result<CreateSession, Error> {
    let mut resolved = request.clone();
    resolved.provider = target.provider.clone();
    resolved.account = target.account.clone();
    if let Some(plan) = &request.plan {
        resolved.plan = Some(match state.routing.plan_for(plan, target) {
            PlanFor::Alias(id) => id.to_owned(),
            PlanFor::Unmapped => {
                return Err(not_mapped(format!(
                    "plan: the alias `{plan}` has no plan id at {target} \
                     (set catalog.plans.{plan}.{}.{})",
                    target.provider, target.account
                )))
            }
            PlanFor::NotAlias if routed => {
                return Err(not_mapped(format!(
                "plan: `{plan}` is not a catalog alias; a routed create names its plan by alias \
                     (catalog.plans), since a vendor's plan id means nothing at another vendor"
            )))
            }
            PlanFor::NotAlias => plan.clone(),
        });
    }
    if let (true, Some(customer)) = (routed, &request.customer) {
        resolved.customer = Some(customer_at(state, customer, target).await?);
    }
    Ok(resolved)
}

/// The caller's customer as `target`'s vendor knows it: from
/// `catalog.customers`, else from the store's map (`PUT /v1/customers/{id}`).
async fn customer_at(state: &AppState, customer: &str, target: &Target) -> Result<String, Error> {
    let missing = || {
        not_mapped(format!(
            "customer: `{customer}` has no reference at {target} \
             (map it with PUT /v1/customers/{customer} or catalog.customers)"
        ))
    };
    if state.routing.customer_is_configured(customer) {
        return state
            .routing
            .configured_customer(customer, target)
            .map(str::to_owned)
            .ok_or_else(missing);
    }
    let store = state.idempotency.store().await?;
    store
        .customer_reference(customer, &target.to_string())
        .await
        .map_err(crate::idempotency::unavailable)?
        .ok_or_else(missing)
}

fn not_mapped(message: String) -> Error {
    Error::new(ErrorCode::NotMapped, message)
}
