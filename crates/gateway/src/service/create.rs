//! Creating a session: the account, the client's vendor-call budget, the
//! `Idempotency-Key` (Stripe's semantics: the same key and body replay the
//! first answer, another body is refused, concurrent requests make one
//! create), the vendor through the account's guard, and the cache.

use std::sync::Arc;
use std::time::Duration;

use checkout_core::{CreateSession, Error, ErrorCode, Fetched, RequestContext};
use feed::Sighting;
use http::StatusCode;

use crate::auth::rate_limit::Budget;
use crate::auth::Client;
use crate::feed::tracker::Sight;
use crate::idempotency::{fingerprint, Attempt, ClaimToken, Claimed, Idempotency, StoredResponse};
use crate::registry;
use crate::service::resolve::{self, AttemptNote, Lookup, Outcome};
use crate::state::{Account, AppState};

/// What a create answers.
pub enum Created {
    /// Made at the vendor now.
    New(Arc<Fetched>),
    /// The stored answer to an earlier request with the same key.
    Replayed(StoredResponse),
    /// The key's earlier attempt, whose outcome is unknown, went to this
    /// other target (`provider:account`; routing chose differently since):
    /// the create must be made there, where that attempt is looked for.
    Elsewhere(String),
}

/// Create `request` (as parsed from `body`) for `client`.
pub async fn create(
    state: Arc<AppState>,
    client: &Client,
    request: CreateSession,
    body: &[u8],
    ctx: RequestContext,
) -> Result<Created, Error> {
    let provider = registry::provider(&request.provider).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownProvider,
            format!(
                "provider: unknown provider {:?} (supported: {})",
                request.provider,
                registry::provider_names()
            ),
        )
    })?;
    // The vendor call's bound, which the key's claim outlives.
    let deadline = state
        .account_for(client, provider.name(), &request.account)?
        .guard
        .deadline();
    let target = (provider.name().to_owned(), request.account.clone());
    let target_name = format!("{}:{}", target.0, target.1);
    let Some(key) = ctx.idempotency_key.clone() else {
        state.spend(client, Budget::VendorCalls)?;
        let fetched = create_upstream(&state, &target, &request, &ctx).await?;
        return Ok(Created::New(fetched));
    };
    // Keys are the client's own: two clients may use the same key.
    let scope = client.name.clone();
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let records = state.idempotency.clone();
    let note = AttemptNote::new(deadline, target_name.clone());
    let note_json = note.to_json();
    let subject = resolve::subject(&request);
    let attempt = Attempt {
        note: &note_json,
        subject: &subject,
    };
    let (token, earlier) = match records
        .claim(
            idempotency_key(&scope, &key),
            fingerprint(&body),
            attempt,
            deadline,
        )
        .await?
    {
        Claimed::Replay(stored) => {
            state.metrics.idempotency_replays.inc();
            return Ok(Created::Replayed(stored));
        }
        Claimed::New { token, earlier } => (token, earlier),
    };
    // An attempt at another target is settled there, never here: leave
    // the key to the request made there (at once).
    let earlier_target = earlier
        .as_deref()
        .and_then(AttemptNote::parse)
        .and_then(|n| n.target);
    if let Some(there) = earlier_target.filter(|t| *t != target_name) {
        records
            .unsettle(idempotency_key(&scope, &key), &token, Duration::ZERO)
            .await;
        return Ok(Created::Elsewhere(there));
    }
    // A replay spends no vendor call; a refused new create frees its key
    // (or, holding an earlier attempt, leaves it to the next request).
    if let Err(e) = state.spend(client, Budget::VendorCalls) {
        match earlier {
            None => records.release(idempotency_key(&scope, &key), &token).await,
            Some(_) => {
                records
                    .unsettle(idempotency_key(&scope, &key), &token, Duration::ZERO)
                    .await
            }
        }
        return Err(e);
    }
    // Run to the end even if the caller goes away, so the key always settles
    // and a retry replays instead of creating a second checkout.
    let task = tokio::spawn(async move {
        let owner = Owner {
            state: &state,
            target: &target,
            request: &request,
            ctx: &ctx,
            key: idempotency_key(&scope, &key),
            token: &token,
        };
        let note = match earlier {
            None => note,
            Some(earlier) => match owner.settle_earlier(&earlier, &note, &subject).await {
                Settled::Answered(result) => return result,
                Settled::CreateAgain => note,
            },
        };
        owner.create_once(&note).await
    });
    let fetched = task
        .await
        .map_err(|_| Error::new(ErrorCode::Internal, "the create task failed"))??;
    Ok(Created::New(fetched))
}

/// The request that owns an idempotency key, and what it does with it.
struct Owner<'a> {
    state: &'a Arc<AppState>,
    target: &'a (String, String),
    request: &'a CreateSession,
    ctx: &'a RequestContext,
    key: store::IdempotencyKey<'a>,
    token: &'a ClaimToken,
}

/// What became of an earlier attempt under the key.
enum Settled {
    /// The key is answered (the session found, or a wait asked for).
    Answered(Result<Arc<Fetched>, Error>),
    /// The vendor holds nothing of it: a new attempt may create.
    CreateAgain,
}

impl Owner<'_> {
    fn records(&self) -> &Idempotency {
        &self.state.idempotency
    }

    fn account(&self) -> Result<&Account, Error> {
        self.state
            .accounts
            .get(self.target)
            .ok_or_else(Error::not_found)
    }

    async fn look_for(&self, note: &AttemptNote, answered: bool) -> Result<Outcome, Error> {
        let lookup = Lookup {
            account: self.account()?,
            request: self.request,
            note,
            answered,
            key: self.key,
            ctx: self.ctx,
        };
        Ok(resolve::look_for(self.state, lookup).await)
    }

    /// The key came from an owner whose attempt's outcome is unknown: look
    /// for its session before anything is created.
    async fn settle_earlier(&self, earlier: &str, note: &AttemptNote, subject: &str) -> Settled {
        let outcome = match AttemptNote::parse(earlier) {
            Some(earlier) => self.look_for(&earlier, false).await,
            // Written by a version that kept no note: nothing to look for.
            None => Ok(Outcome::Ambiguous(0)),
        };
        match outcome {
            Ok(Outcome::Made(fetched)) => Settled::Answered(Ok(self.answer_with(fetched).await)),
            Ok(Outcome::Nothing) => {
                let attempt = Attempt {
                    note: &note.to_json(),
                    subject,
                };
                match self.records().retry(self.key, self.token, attempt).await {
                    Ok(true) => Settled::CreateAgain,
                    // The claim was taken over meanwhile: its new owner goes on.
                    Ok(false) => Settled::Answered(Err(still_unknown(MIN_WAIT))),
                    Err(e) => {
                        self.records()
                            .unsettle(self.key, self.token, MIN_WAIT)
                            .await;
                        Settled::Answered(Err(e))
                    }
                }
            }
            Ok(Outcome::NotYet(after)) => {
                self.records().unsettle(self.key, self.token, after).await;
                Settled::Answered(Err(still_unknown(after)))
            }
            Ok(Outcome::Ambiguous(n)) => {
                Settled::Answered(Err(self.park(ambiguous(self.request, n)).await))
            }
            Err(e) => {
                self.records()
                    .unsettle(self.key, self.token, MIN_WAIT)
                    .await;
                Settled::Answered(Err(e))
            }
        }
    }

    /// One create at the vendor under the key, and what the key answers
    /// after it.
    async fn create_once(&self, note: &AttemptNote) -> Result<Arc<Fetched>, Error> {
        let account = self.account()?;
        let vendor_idempotent = account.connector.create_is_idempotent(self.ctx);
        let marked;
        let request = if account.connector.lists_create_metadata() {
            marked = checkout_core::resolve::marked(self.request, &note.mark);
            &marked
        } else {
            self.request
        };
        let e = match create_upstream(self.state, self.target, request, self.ctx).await {
            Ok(fetched) => {
                self.record_success(&fetched).await;
                return Ok(fetched);
            }
            Err(e) => e,
        };
        if !worth_replaying(&e, vendor_idempotent) {
            self.records().release(self.key, self.token).await;
            return Err(e);
        }
        if !outcome_unknown(&e) || !resolve::can_look(account) {
            return Err(self.park(e).await);
        }
        // The vendor may have made the session: look for it now.
        match self.look_for(note, vendor_finished(&e)).await? {
            Outcome::Made(fetched) => Ok(self.answer_with(fetched).await),
            Outcome::Nothing => {
                self.records().release(self.key, self.token).await;
                Err(e)
            }
            Outcome::NotYet(after) => {
                self.records().unsettle(self.key, self.token, after).await;
                Err(retry_to_find(e, after))
            }
            Outcome::Ambiguous(n) => Err(self.park(ambiguous(self.request, n)).await),
        }
    }

    /// Answer the key with a session found at the vendor.
    async fn answer_with(&self, fetched: Box<Fetched>) -> Arc<Fetched> {
        let fetched = Arc::<Fetched>::from(fetched);
        self.state
            .cache
            .insert(fetched.session.id.clone(), &fetched)
            .await;
        if let Ok(account) = self.account() {
            track_created(self.state, account, &fetched).await;
        }
        self.record_success(&fetched).await;
        fetched
    }

    /// The key answers with this session from now on.
    async fn record_success(&self, fetched: &Fetched) {
        self.records()
            .complete(
                self.key,
                self.token,
                &stored_success(fetched),
                Some(&fetched.session.id),
            )
            .await;
    }

    /// Answer the key with `e` for good: every retry replays it.
    async fn park(&self, e: Error) -> Error {
        let e = settled(e, self.records().ttl());
        self.records()
            .complete(
                self.key,
                self.token,
                &stored_error(&e, &self.ctx.request_id),
                None,
            )
            .await;
        e
    }
}

/// Create through the account's guard and cache the result.
async fn create_upstream(
    state: &AppState,
    target: &(String, String),
    request: &CreateSession,
    ctx: &RequestContext,
) -> Result<Arc<Fetched>, Error> {
    let account = state.accounts.get(target).ok_or_else(Error::not_found)?;
    let fetched = Arc::new(
        account
            .guard
            .create(account.connector.as_ref(), &account.client, request, ctx)
            .await?,
    );
    state
        .cache
        .insert(fetched.session.id.clone(), &fetched)
        .await;
    track_created(state, account, &fetched).await;
    Ok(fetched)
}

/// A created session is tracked before the client hears of it (bounded:
/// a store that fails or stalls is logged and counted, and the create
/// answered all the same).
async fn track_created(state: &AppState, account: &Account, fetched: &Fetched) {
    let hint = account.connector.feed_hint(&fetched.raw);
    let sight = Sight::new(&fetched.session, hint, Sighting::Created);
    state
        .feed
        .tracker()
        .observe_now(&state.metrics, sight, TRACK_CREATED_WITHIN)
        .await;
}

/// How long a create waits for its session to be tracked.
const TRACK_CREATED_WITHIN: Duration = Duration::from_secs(2);

/// The vendor may have acted on the create: it was sent and no answer
/// says what happened.
fn outcome_unknown(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::ProviderTimeout
            | ErrorCode::ProviderError
            | ErrorCode::ProviderBadResponse
            | ErrorCode::ProviderUnavailable
    )
}

/// The vendor answered the create (its handling of it is over), unless a
/// proxy in front of it answered for it (502, 504) while it may still act.
fn vendor_finished(e: &Error) -> bool {
    e.provider_http_status
        .is_some_and(|status| !matches!(status, 502 | 504))
}

/// A retry should wait at least this long before looking again.
const MIN_WAIT: Duration = Duration::from_secs(1);

/// The key's earlier attempt is not settled yet: come back.
fn still_unknown(after: Duration) -> Error {
    let seconds = after.as_secs().max(1);
    Error::new(
        ErrorCode::IdempotencyInProgress,
        format!(
            "the outcome of this Idempotency-Key's earlier create at the vendor is not known yet; \
             retry with the same key after {seconds} s to get its session, or a new create if the vendor made none"
        ),
    )
    .with_retry_after(Some(Duration::from_secs(seconds)))
}

/// A failed create whose session the gateway will look for again when the
/// client retries with its key.
fn retry_to_find(e: Error, after: Duration) -> Error {
    let seconds = after.as_secs().max(1);
    let message = format!(
        "{} Retry with the same Idempotency-Key after {seconds} s: the gateway then answers with the \
         session if the vendor made it, or creates it if the vendor made none.",
        e.message
    );
    Error {
        message,
        retryable: true,
        retry_after: Some(Duration::from_secs(seconds)),
        ..e
    }
}

/// Several sessions at the vendor could be the create's.
fn ambiguous(request: &CreateSession, n: usize) -> Error {
    let at = format!("{}:{}", request.provider, request.account);
    let message = if n == 0 {
        format!(
            "the outcome of this key's earlier create at {at} is unknown and cannot be looked for"
        )
    } else {
        format!(
            "the outcome of this create at {at} is unknown: {n} sessions at the vendor could be it \
             (same customer, created at the time); list the customer's sessions to see which is yours."
        )
    };
    Error::new(ErrorCode::ProviderError, message).with_provider(&request.provider)
}

/// Whether a failed create is answered the same way on a retry with the
/// same key. Not when nothing happened at the vendor (never sent, rate
/// limited, refused before the call): the retry should try again. When the
/// outcome is unknown (timeout, 5xx), replaying the failure is what keeps a
/// retry from making a second checkout — unless the vendor itself
/// deduplicates, in which case retrying is the better answer.
fn worth_replaying(e: &Error, vendor_idempotent: bool) -> bool {
    match e.code {
        ErrorCode::RateLimited => false,
        _ if e.not_sent => false,
        ErrorCode::ProviderTimeout
        | ErrorCode::ProviderError
        | ErrorCode::ProviderBadResponse
        | ErrorCode::ProviderUnavailable => !vendor_idempotent,
        // The vendor decided (a 4xx): replay its decision.
        _ => e.provider_http_status.is_some(),
    }
}

/// A failure that every retry with this key will replay: a retry with the
/// same key cannot help, so it is not `retryable`, and the message says
/// what can.
fn settled(e: Error, ttl: Duration) -> Error {
    if !e.retryable {
        return e;
    }
    let hours = ttl.as_secs().div_ceil(3600);
    let message = format!(
        "{} The outcome at the vendor is unknown, so this Idempotency-Key gives this same answer for {hours} h; \
         check at the vendor whether the checkout was made before retrying with a new key.",
        e.message
    );
    Error {
        message,
        retryable: false,
        retry_after: None,
        ..e
    }
}

/// The store's key: the client's own `Idempotency-Key`.
fn idempotency_key<'a>(scope: &'a str, key: &'a str) -> store::IdempotencyKey<'a> {
    store::IdempotencyKey { scope, key }
}

fn stored_success(fetched: &Fetched) -> StoredResponse {
    StoredResponse {
        status: StatusCode::CREATED.as_u16(),
        body: serde_json::to_string(&fetched.session.as_of(chrono::Utc::now())).unwrap_or_default(),
        location: Some(format!("/v1/checkout-sessions/{}", fetched.session.id)),
        retry_after_secs: None,
    }
}

fn stored_error(e: &Error, request_id: &str) -> StoredResponse {
    StoredResponse {
        status: e.http_status,
        body: serde_json::to_string(&e.body(Some(request_id))).unwrap_or_default(),
        location: None,
        retry_after_secs: e.retry_after.map(|d| d.as_secs()),
    }
}
