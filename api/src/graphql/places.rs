//! The listed places: what a frontend offers in its region and city pickers and filters.

use async_graphql::{Context, Object};
use birgemiz_schema::places;

use super::common::{LocalizedTextGql, localized_or_empty};

/// A listed region or city, with its stable code (ISO 3166-2 for regions).
pub struct Place(&'static places::Place);

#[Object]
impl Place {
    /// E.g. KZ-39 (a region), KZ-71 (a city that is a region too), KZ-39-KOSTANAY (a city).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// In the request's language.
    async fn name(&self, ctx: &Context<'_>) -> String {
        localized_or_empty(ctx, &self.0.name)
    }
    #[graphql(name = "nameI18n")]
    async fn name_i18n(&self) -> LocalizedTextGql {
        (&self.0.name).into()
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// Whether it may be a `regionCode`.
    async fn is_region(&self) -> bool {
        self.0.is_region
    }
    /// Whether it may be a `cityCode`.
    async fn is_city(&self) -> bool {
        self.0.is_city
    }
    /// The region a city lies in; null for regions.
    async fn region_code(&self) -> Option<&str> {
        self.0.region_code.as_deref()
    }
}

#[derive(Default)]
pub struct PlaceQuery;

#[Object]
impl PlaceQuery {
    /// The listed places (a fixed list of about 120), by code; of one country when given.
    async fn places(&self, country: Option<String>) -> Vec<Place> {
        let country = country.map(|c| c.trim().to_ascii_uppercase());
        places::all()
            .iter()
            .filter(|p| country.as_deref().is_none_or(|c| p.country == c))
            .map(Place)
            .collect()
    }
}
