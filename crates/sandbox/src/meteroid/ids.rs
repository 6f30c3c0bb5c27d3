//! Meteroid's public ids: a type prefix plus unpadded base62 (`0-9A-Za-z`)
//! of the UUID's u128 rotated left by 67 bits (so ids made in the same
//! millisecond do not share their first characters).
//!
//! Inputs accept the prefixed form or a raw UUID; errors carry the vendor's
//! `IdError: …` wording because it surfaces verbatim in 400/422 bodies.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

const ROTATION: u32 = 67;

/// What an id names: fixes its prefix.
pub trait Kind {
    const PREFIX: &'static str;
}

macro_rules! kinds {
    ($($name:ident => $prefix:literal),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name;
        impl Kind for $name {
            const PREFIX: &'static str = $prefix;
        }
    )*};
}

kinds! {
    CheckoutSession => "che_",
    Customer => "cus_",
    PlanVersion => "plv_",
    Subscription => "sub_",
    Coupon => "cou_",
    AddOn => "add_",
    BankAccount => "ba_",
    PriceComponent => "price_",
    Price => "pri_",
    Product => "prd_",
    BillableMetric => "bm_",
}

/// A typed id; `Display` and `Serialize` give the prefixed form.
pub struct Id<K> {
    uuid: Uuid,
    kind: PhantomData<K>,
}

impl<K: Kind> Id<K> {
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Id {
            uuid,
            kind: PhantomData,
        }
    }

    /// A fresh id over a UUIDv7, like the vendor's database keys.
    pub fn new_v7() -> Self {
        Id::from_uuid(Uuid::now_v7())
    }

    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// `prefix` + base62 form: decodes its prefix form, else takes a UUID.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        if let Some(rest) = input.strip_prefix(K::PREFIX) {
            let decoded = base62::decode(rest).map_err(|e| IdError(e.to_string()))?;
            Ok(Id::from_uuid(Uuid::from_u128(
                decoded.rotate_right(ROTATION),
            )))
        } else {
            Uuid::parse_str(input)
                .map(Id::from_uuid)
                .map_err(|e| IdError(e.to_string()))
        }
    }
}

/// The encoded form of `uuid` with `prefix`, e.g. `che_…`.
pub fn encode(prefix: &str, uuid: Uuid) -> String {
    format!(
        "{prefix}{}",
        base62::encode(uuid.as_u128().rotate_left(ROTATION))
    )
}

impl<K: Kind> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode(K::PREFIX, self.uuid))
    }
}

impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.uuid)
    }
}

// Manual impls: derives would wrongly require `K: Clone` etc.
impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Id<K> {}
impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}
impl<K> Eq for Id<K> {}

impl<K: Kind> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de, K: Kind> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Id::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Why an id did not parse; displayed as the vendor does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError(String);

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdError: {}", self.0)
    }
}

impl std::error::Error for IdError {}

/// A list of ids read as strings first, then parsed: a bad element is
/// reported against the field, not the element, as the vendor does.
pub mod vec_of_strings {
    use super::{Id, Kind};
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, K>(deserializer: D) -> Result<Vec<Id<K>>, D::Error>
    where
        D: Deserializer<'de>,
        K: Kind,
    {
        let raw: Vec<String> = Vec::deserialize(deserializer)?;
        raw.iter()
            .map(|s| Id::parse(s).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Some nested ids (bank accounts) are written back as bare UUIDs.
pub mod uuid_form {
    use super::{Id, Kind};
    use serde::Serializer;

    pub fn serialize<S, K>(id: &Option<Id<K>>, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        K: Kind,
    {
        match id {
            Some(id) => serializer.collect_str(&id.uuid()),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_uuid_matches_the_vendor_example() {
        let id = Id::<CheckoutSession>::from_uuid(Uuid::max());
        assert_eq!(id.to_string(), "che_7n42DGM5Tflk9n8mt7Fhc7");
    }

    #[test]
    fn round_trips_both_forms() {
        let id = Id::<CheckoutSession>::new_v7();
        let text = id.to_string();
        assert!(text.starts_with("che_") && text.len() <= 4 + 22);
        assert_eq!(Id::<CheckoutSession>::parse(&text), Ok(id));
        assert_eq!(Id::<CheckoutSession>::parse(&id.uuid().to_string()), Ok(id));
    }

    #[test]
    fn errors_use_the_vendor_wording() {
        let err = Id::<CheckoutSession>::parse("che_!!").unwrap_err();
        assert!(err.to_string().starts_with("IdError: "), "{err}");
        let err = Id::<CheckoutSession>::parse("cus_abc").unwrap_err();
        assert!(err.to_string().starts_with("IdError: "), "{err}");
        assert!(Id::<CheckoutSession>::parse("che_").is_err());
    }
}
