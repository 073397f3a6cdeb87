//! Where the links in emails point. With `FRONTEND_URL` every link a person follows opens the
//! frontend, which serves the routes of [`FRONTEND_ROUTES`] and talks to the api through GraphQL.
//! Without it, the account and subscription links open the api's own pages, and links to content
//! (a project, a post, an award) are left out: the api serves no such pages, and a link that
//! answers 404 is worse than none. The RFC 8058 one-click target (the `List-Unsubscribe` header)
//! is always the api's `/unsubscribe`: mail providers POST to it, and a frontend would have to
//! proxy that POST.

use crate::config::Config;

/// The routes a frontend at `FRONTEND_URL` must serve: (path, what it does). `./dev up` prints
/// them; docs/language-and-links.md explains each.
pub const FRONTEND_ROUTES: [(&str, &str); 9] = [
    (
        "/sign-in?token=",
        "sign-in link and jury invitation: a button that calls signInWithLink(token)",
    ),
    (
        "/sign-in#code=",
        "after the api's own sign-in page: exchangeSignInCode(code) gives the session",
    ),
    (
        "/verify?token=",
        "email verification: a button that calls verifyEmail(token)",
    ),
    (
        "/confirm?token=",
        "subscription confirmation: a button that calls confirmSubscription(token)",
    ),
    (
        "/unsubscribe?token=",
        "emailSubscription/emailOptOut(token); updateSubscription, unsubscribe or setEmailOptOut",
    ),
    ("/projects/{slug}", "a project"),
    ("/news/{slug}", "a post"),
    ("/awards/{slug}", "an award"),
    (
        "/awards/{slug}#nomination-{id}",
        "a nomination on its award's page",
    ),
];

#[derive(Clone, Debug)]
pub struct Links {
    public_url: String,
    frontend_url: Option<String>,
}

impl Links {
    pub fn new(public_url: &str, frontend_url: Option<&str>) -> Links {
        Links {
            public_url: public_url.trim_end_matches('/').to_owned(),
            frontend_url: frontend_url.map(|f| f.trim_end_matches('/').to_owned()),
        }
    }

    pub fn of(config: &Config) -> Links {
        Links::new(&config.public_url, config.frontend_url.as_deref())
    }

    pub fn has_frontend(&self) -> bool {
        self.frontend_url.is_some()
    }

    pub fn frontend(&self) -> Option<&str> {
        self.frontend_url.as_deref()
    }

    /// The frontend's `route`, else the api's `page`, with the token.
    fn with_token(&self, route: &str, page: &str, token: &str) -> String {
        match &self.frontend_url {
            Some(f) => format!("{f}{route}?token={token}"),
            None => format!("{}{page}?token={token}", self.public_url),
        }
    }

    pub fn sign_in(&self, token: &str) -> String {
        self.with_token("/sign-in", "/auth/link", token)
    }

    pub fn verify(&self, token: &str) -> String {
        self.with_token("/verify", "/auth/link", token)
    }

    pub fn confirm(&self, token: &str) -> String {
        self.with_token("/confirm", "/subscriptions/confirm", token)
    }

    /// The unsubscribe/preferences link of an email's footer.
    pub fn unsubscribe(&self, token: &str) -> String {
        self.with_token("/unsubscribe", "/unsubscribe", token)
    }

    /// The `List-Unsubscribe` target: the api's, which takes the one-click POST.
    pub fn one_click(&self, token: &str) -> String {
        format!("{}/unsubscribe?token={token}", self.public_url)
    }

    /// Where the api's sign-in page sends a person it signed in: the code goes in the fragment,
    /// which browsers never send to a server, so no proxy or access log sees it.
    pub fn signed_in(&self, code: &str) -> Option<String> {
        Some(format!(
            "{}/sign-in#code={code}",
            self.frontend_url.as_ref()?
        ))
    }

    fn content(&self, path: &str) -> Option<String> {
        Some(format!("{}{path}", self.frontend_url.as_ref()?))
    }

    pub fn project(&self, slug: &str) -> Option<String> {
        self.content(&format!("/projects/{slug}"))
    }

    pub fn post(&self, slug: &str) -> Option<String> {
        self.content(&format!("/news/{slug}"))
    }

    pub fn award(&self, slug: &str) -> Option<String> {
        self.content(&format!("/awards/{slug}"))
    }

    pub fn nomination(&self, award_slug: &str, nomination_id: i64) -> Option<String> {
        self.content(&format!("/awards/{award_slug}#nomination-{nomination_id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_open_the_frontend_when_there_is_one() {
        let api = Links::new("https://api.example/", None);
        assert_eq!(api.sign_in("t"), "https://api.example/auth/link?token=t");
        assert_eq!(api.project("p"), None);
        assert_eq!(api.signed_in("c"), None);
        let f = Links::new("https://api.example", Some("https://example.kz/"));
        assert_eq!(f.sign_in("t"), "https://example.kz/sign-in?token=t");
        assert_eq!(f.confirm("t"), "https://example.kz/confirm?token=t");
        assert_eq!(f.one_click("t"), "https://api.example/unsubscribe?token=t");
        assert_eq!(
            f.nomination("a", 7).as_deref(),
            Some("https://example.kz/awards/a#nomination-7")
        );
        assert_eq!(
            f.signed_in("c").as_deref(),
            Some("https://example.kz/sign-in#code=c")
        );
    }
}
