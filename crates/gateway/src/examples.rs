//! One create per demo account, and how the sandbox then moves it on: the
//! demo's walk-through and the OpenAPI document's create examples. A leaf,
//! so that the HTTP layer need not reach into the command line for them.

/// One vendor account's walk: what to create, and how the sandbox moves it on.
pub struct Tour {
    pub title: &'static str,
    pub provider: &'static str,
    pub account: &'static str,
    pub create: serde_json::Value,
    /// Body for `POST /_sandbox/<provider>/sessions/<vendor id>`.
    pub control: serde_json::Value,
    pub control_says: &'static str,
}

/// Also the create examples of the OpenAPI document.
pub fn tours() -> Vec<Tour> {
    use sandbox::seed;
    use serde_json::json;
    vec![
        Tour {
            title: "Meteroid",
            provider: "meteroid",
            account: "default",
            create: json!({"provider": "meteroid", "account": "default",
                "customer": seed::METEROID_CUSTOMER_ALIAS, "plan": seed::METEROID_PLAN_VERSION_ID}),
            control: json!({"status": "COMPLETED"}),
            control_says: "the customer pays",
        },
        Tour {
            title: "Flowglad",
            provider: "flowglad",
            account: "default",
            create: json!({"provider": "flowglad", "account": "default",
                "customer": seed::FLOWGLAD_CUSTOMER_EXTERNAL_ID, "plan": seed::FLOWGLAD_PRICE_ID,
                "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
                "metadata": {"order": "1234"}}),
            control: json!({"status": "succeeded"}),
            control_says: "the payment succeeds",
        },
        Tour {
            title: "Frontier (ConnectRPC)",
            provider: "frontier",
            account: "default",
            create: json!({"provider": "frontier", "account": "default",
                "customer": seed::FRONTIER_ORG_ID, "plan": seed::FRONTIER_PLAN_ID,
                "success_url": "https://shop.example/ok?checkout={{.CheckoutID}}",
                "cancel_url": "https://shop.example/no"}),
            control: json!({"state": "complete"}),
            control_says: "Stripe reports the checkout complete",
        },
        Tour {
            title: "Frontier (legacy REST)",
            provider: "frontier",
            account: "legacy",
            create: json!({"provider": "frontier", "account": "legacy", "customer": seed::FRONTIER_ORG_ID,
                "provider_options": {"product_body": {"product": seed::FRONTIER_PRODUCT_ID, "quantity": 2}},
                "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}),
            control: json!({"state": "expired"}),
            control_says: "the Stripe session expires",
        },
        Tour {
            title: "Zenskar (/checkout)",
            provider: "zenskar",
            account: "default",
            create: json!({"provider": "zenskar", "account": "default",
                "customer": seed::ZENSKAR_CUSTOMER_ID, "plan": seed::ZENSKAR_PLAN_ID,
                "success_url": "https://shop.example/ok",
                "provider_options": {"currency": "USD", "start_date": "2026-12-01"}}),
            control: json!({"action": "confirm", "confirmation": "charge_immediately"}),
            control_says: "the checkout is confirmed (complete, not yet paid)",
        },
        Tour {
            title: "Zenskar (/checkouts)",
            provider: "zenskar",
            account: "checkouts",
            create: json!({"provider": "zenskar", "account": "checkouts",
                "customer": seed::ZENSKAR_CUSTOMER_ID, "plan": seed::ZENSKAR_PLAN_ID}),
            control: json!({"action": "pay"}),
            control_says: "the payment succeeds",
        },
    ]
}
