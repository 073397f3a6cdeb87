//! Sign-up, sign-in (password or emailed link), email verification, profile and password.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use birgemiz_schema::accounts;

use super::common::{locale_arg, push_outbox};
use super::context::ContextExt;
use super::errors::ApiResult;
use super::rate_limit;
use super::viewer::{LocaleGql, User};

#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Opaque bearer token: send as `Authorization: Bearer <token>`.
    token: String,
    user: User,
}

#[derive(InputObject)]
pub struct SignUpInput {
    email: String,
    password: String,
    display_name: String,
    locale: Option<LocaleGql>,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and a session; emails a verification link.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> ApiResult<AuthPayload> {
        let limits = ctx.config().rate_limits;
        rate_limit::email_action(
            ctx,
            "sign-up",
            &input.email,
            limits.sign_up_per_email,
            limits.sign_up_per_ip,
        )
        .await?;
        let locale = locale_arg(input.locale, ctx);
        let (user, token, outbox) = accounts::sign_up(
            &mut *ctx.conn().await?,
            &input.email,
            &input.password,
            &input.display_name,
            locale,
        )
        .await?;
        push_outbox(ctx, outbox).await;
        ctx.mark_signed_in(user.id);
        Ok(AuthPayload {
            token,
            user: User(user),
        })
    }

    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> ApiResult<AuthPayload> {
        let limits = ctx.config().rate_limits;
        rate_limit::email_action(
            ctx,
            "sign-in",
            &email,
            limits.sign_in_per_email,
            limits.sign_in_per_ip,
        )
        .await?;
        let (user, token) = accounts::sign_in(&mut *ctx.conn().await?, &email, &password).await?;
        ctx.mark_signed_in(user.id);
        Ok(AuthPayload {
            token,
            user: User(user),
        })
    }

    /// Emails a one-time sign-in link; always returns true.
    async fn request_sign_in_link(&self, ctx: &Context<'_>, email: String) -> ApiResult<bool> {
        let limits = ctx.config().rate_limits;
        rate_limit::email_action(
            ctx,
            "sign-in-link",
            &email,
            limits.sign_in_link_per_email,
            limits.sign_in_link_per_ip,
        )
        .await?;
        let outbox =
            accounts::request_sign_in_link(&mut *ctx.conn().await?, &email, ctx.locale()).await?;
        push_outbox(ctx, outbox).await;
        Ok(true)
    }

    async fn sign_in_with_link(&self, ctx: &Context<'_>, token: String) -> ApiResult<AuthPayload> {
        let (user, token) =
            accounts::sign_in_with_link(&mut *ctx.conn().await?, &token, ctx.locale()).await?;
        ctx.mark_signed_in(user.id);
        Ok(AuthPayload {
            token,
            user: User(user),
        })
    }

    /// The session behind the one-time code the api's sign-in page put in the fragment of
    /// `FRONTEND_URL/sign-in#code=…`; the code works once, for two minutes.
    async fn exchange_sign_in_code(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> ApiResult<AuthPayload> {
        let (user, token) = accounts::exchange_sign_in_code(&mut *ctx.conn().await?, &code).await?;
        ctx.mark_signed_in(user.id);
        Ok(AuthPayload {
            token,
            user: User(user),
        })
    }

    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> ApiResult<User> {
        let user = accounts::verify_email(&mut *ctx.conn().await?, &token).await?;
        // The link was sent to the account's own mailbox: whoever uses it sees that account.
        ctx.mark_signed_in(user.id);
        Ok(User(user))
    }

    async fn resend_verification(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let v = ctx.require_viewer()?;
        let outbox = accounts::resend_verification(&mut *ctx.conn().await?, v).await?;
        push_outbox(ctx, outbox).await;
        Ok(true)
    }

    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        display_name: Option<String>,
        locale: Option<LocaleGql>,
    ) -> ApiResult<User> {
        let v = ctx.require_viewer()?;
        Ok(User(
            accounts::update_profile(
                &mut *ctx.conn().await?,
                v,
                display_name,
                locale.map(Into::into),
            )
            .await?,
        ))
    }

    /// Set or change the password. `currentPassword` is required when the account has one, unless
    /// the session was opened by a sign-in link in the last 15 minutes (that is the reset path).
    /// Other sessions of the user are revoked.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: Option<String>,
        new_password: String,
    ) -> ApiResult<bool> {
        let v = ctx.require_viewer()?;
        accounts::change_password(
            &mut *ctx.conn().await?,
            v,
            current_password.as_deref(),
            &new_password,
        )
        .await?;
        Ok(true)
    }
}
