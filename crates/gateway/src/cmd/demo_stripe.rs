//! The demo's Stripe facade lines (PRODUCT §13): a create and a list as
//! Stripe's API takes them (a form body, the key as Basic user name), and
//! how to point the official SDK at the demo (README has a whole example).

pub fn print(gateway: &str, key: &str) {
    println!();
    println!("## Stripe-compatible facade");
    println!("# code written for Stripe Checkout: a form body, Stripe's objects and errors; the account from Stripe-Account (or routing)");
    println!(
        "$ curl -sS --fail-with-body {gateway}/stripe/v1/checkout/sessions -u {key}: -H 'Stripe-Account: flowglad:default' \
-d 'line_items[0][price]=pro' -d customer=acme -d mode=subscription -d success_url=https://shop.example/ok -d cancel_url=https://shop.example/no"
    );
    println!(
        "$ curl -sS --fail-with-body -G {gateway}/stripe/v1/checkout/sessions -u {key}: -d limit=3"
    );
    println!("# the official SDK: stripe.api_key = '{key}'; stripe.api_base = '{gateway}/stripe'");
}
