// @generated automatically by Diesel CLI.

diesel::table! {
    applications (id) {
        id -> Int8,
        project_id -> Int8,
        volunteer_id -> Int8,
        message -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    award_categories (id) {
        id -> Int8,
        award_id -> Int8,
        title -> Jsonb,
        description -> Jsonb,
        position -> Int4,
        vote_count -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    award_result_formulas (award_id) {
        award_id -> Int8,
        public_weight -> Float8,
        method -> Text,
        rank_points -> Nullable<Array<Nullable<Int4>>>,
        normalize_jurors -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    awards (id) {
        id -> Int8,
        slug -> Text,
        title -> Jsonb,
        description -> Jsonb,
        year -> Int4,
        countries -> Array<Nullable<Text>>,
        nomination_opens_at -> Timestamptz,
        nomination_closes_at -> Timestamptz,
        voting_opens_at -> Timestamptz,
        voting_closes_at -> Timestamptz,
        results_published_at -> Nullable<Timestamptz>,
        live_counts -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    digest_runs (id) {
        id -> Int8,
        period_start -> Timestamptz,
        period_end -> Timestamptz,
        status -> Text,
        cursor_id -> Int8,
        recipient_count -> Int4,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    email_opt_outs (email, kind) {
        email -> Text,
        kind -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    email_subscriptions (id) {
        id -> Int8,
        email -> Text,
        locale -> Text,
        topics -> Array<Nullable<Text>>,
        status -> Text,
        confirmed_at -> Nullable<Timestamptz>,
        unsubscribed_at -> Nullable<Timestamptz>,
        last_digest_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    final_results (category_id, nomination_id) {
        category_id -> Int8,
        nomination_id -> Int8,
        rank -> Int4,
        score -> Float8,
        public_votes -> Int4,
        public_rank -> Int4,
        jury_score -> Nullable<Float8>,
        jury_rank -> Nullable<Int4>,
        jurors_scored -> Int4,
    }
}

diesel::table! {
    judging_criteria (id) {
        id -> Int8,
        award_id -> Int8,
        title -> Jsonb,
        description -> Jsonb,
        weight -> Float8,
        max_score -> Int4,
        position -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    juror_categories (juror_id, category_id) {
        juror_id -> Int8,
        category_id -> Int8,
    }
}

diesel::table! {
    juror_conflicts (juror_id, nomination_id) {
        juror_id -> Int8,
        nomination_id -> Int8,
        reason -> Text,
        declared_at -> Timestamptz,
    }
}

diesel::table! {
    jurors (id) {
        id -> Int8,
        award_id -> Int8,
        email -> Text,
        user_id -> Nullable<Int8>,
        locale -> Text,
        invitation_token_id -> Nullable<Int8>,
        invited_by -> Nullable<Int8>,
        invited_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        submitted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    jury_criterion_scores (score_id, criterion_id) {
        score_id -> Int8,
        criterion_id -> Int8,
        score -> Int4,
    }
}

diesel::table! {
    jury_scores (id) {
        id -> Int8,
        juror_id -> Int8,
        nomination_id -> Int8,
        total -> Float8,
        comment -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    network_memberships (network_id, member_id) {
        network_id -> Int8,
        member_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    nomination_counts (category_id, status) {
        category_id -> Int8,
        status -> Text,
        nominations -> Int8,
    }
}

diesel::table! {
    nominations (id) {
        id -> Int8,
        category_id -> Int8,
        nominee_name -> Text,
        nominee_key -> Text,
        nominee_kind -> Text,
        project_id -> Nullable<Int8>,
        organization_id -> Nullable<Int8>,
        statement -> Text,
        country -> Text,
        region -> Nullable<Text>,
        status -> Text,
        submitted_by -> Nullable<Int8>,
        moderation_note -> Nullable<Text>,
        moderated_by -> Nullable<Int8>,
        moderated_at -> Nullable<Timestamptz>,
        vote_count -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        nominee_identity -> Text,
    }
}

diesel::table! {
    one_time_tokens (id) {
        id -> Int8,
        purpose -> Text,
        user_id -> Nullable<Int8>,
        email -> Text,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    organization_managers (organization_id, user_id) {
        organization_id -> Int8,
        user_id -> Int8,
        role -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    organizations (id) {
        id -> Int8,
        slug -> Text,
        name -> Jsonb,
        description -> Jsonb,
        kind -> Text,
        country -> Text,
        region -> Nullable<Text>,
        city -> Nullable<Text>,
        website -> Nullable<Text>,
        verified -> Bool,
        published_project_count -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        region_code -> Nullable<Text>,
        city_code -> Nullable<Text>,
        place_names -> Text,
        search_text -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        kind -> Text,
        recipient -> Text,
        locale -> Text,
        payload -> Jsonb,
        dedupe_key -> Text,
        bulk -> Bool,
        digest_run_id -> Nullable<Int8>,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        leased_by -> Nullable<Text>,
        smtp_response -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    places (code) {
        code -> Text,
        country -> Text,
        region_code -> Nullable<Text>,
        is_region -> Bool,
        is_city -> Bool,
        name -> Jsonb,
        aliases -> Array<Nullable<Text>>,
        whole_keys -> Nullable<Array<Nullable<Text>>>,
        bare_keys -> Nullable<Array<Nullable<Text>>>,
    }
}

diesel::table! {
    platform_counts (slot) {
        slot -> Int2,
        organizations -> Int8,
        published_projects -> Int8,
        volunteers -> Int8,
        applications -> Int8,
    }
}

diesel::table! {
    post_views (post_id, client_key, hour) {
        post_id -> Int8,
        client_key -> Bytea,
        hour -> Timestamptz,
    }
}

diesel::table! {
    posts (id) {
        id -> Int8,
        slug -> Text,
        organization_id -> Nullable<Int8>,
        author_id -> Nullable<Int8>,
        title -> Jsonb,
        body -> Jsonb,
        view_count -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        search_text -> Nullable<Text>,
    }
}

diesel::table! {
    project_facet_counts (id) {
        id -> Int8,
        status -> Text,
        direction -> Text,
        country -> Text,
        region -> Nullable<Text>,
        projects -> Int8,
    }
}

diesel::table! {
    projects (id) {
        id -> Int8,
        slug -> Text,
        organization_id -> Int8,
        title -> Jsonb,
        summary -> Jsonb,
        description -> Jsonb,
        direction -> Text,
        status -> Text,
        country -> Text,
        region -> Nullable<Text>,
        city -> Nullable<Text>,
        starts_at -> Nullable<Timestamptz>,
        ends_at -> Nullable<Timestamptz>,
        volunteers_needed -> Nullable<Int4>,
        volunteer_count -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        region_code -> Nullable<Text>,
        city_code -> Nullable<Text>,
        place_names -> Text,
        search_text -> Nullable<Text>,
    }
}

diesel::table! {
    result_snapshots (award_id) {
        award_id -> Int8,
        frozen_at -> Timestamptz,
        frozen_by -> Nullable<Int8>,
        document -> Text,
        sha256 -> Text,
        votes_counted -> Int4,
        votes_excluded -> Int4,
    }
}

diesel::table! {
    search_words (word) {
        word -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        user_id -> Int8,
        token_hash -> Bytea,
        via_link -> Bool,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    suppressions (email) {
        email -> Text,
        reason -> Text,
        smtp_response -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        password_hash -> Nullable<Text>,
        display_name -> Text,
        locale -> Text,
        role -> Text,
        email_verified_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    volunteer_accepted_counts (user_id) {
        user_id -> Int8,
        accepted -> Int4,
    }
}

diesel::table! {
    vote_count_deltas (id) {
        id -> Int8,
        category_id -> Int8,
        nomination_id -> Int8,
        delta -> Int4,
    }
}

diesel::table! {
    vote_events (id) {
        id -> Int8,
        vote_id -> Int8,
        user_id -> Int8,
        category_id -> Int8,
        kind -> Text,
        from_nomination_id -> Nullable<Int8>,
        to_nomination_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        net_hash -> Nullable<Int8>,
        addr_hash -> Nullable<Int8>,
        ua_hash -> Nullable<Int8>,
    }
}

diesel::table! {
    vote_quarantine_log (id) {
        id -> Int8,
        signal_id -> Int8,
        category_id -> Int8,
        signal_kind -> Text,
        action -> Text,
        admin_id -> Int8,
        reason -> Nullable<Text>,
        votes -> Int4,
        nomination_id -> Nullable<Int8>,
        baseline -> Float8,
        strength -> Float8,
        first_at -> Timestamptz,
        last_at -> Timestamptz,
        at -> Timestamptz,
    }
}

diesel::table! {
    vote_quarantines (id) {
        id -> Int8,
        category_id -> Int8,
        user_id -> Int8,
        reason -> Text,
        quarantined_by -> Nullable<Int8>,
        quarantined_at -> Timestamptz,
        released_at -> Nullable<Timestamptz>,
        signal_id -> Int8,
        signal_kind -> Text,
        released_by -> Nullable<Int8>,
    }
}

diesel::table! {
    votes (id) {
        id -> Int8,
        user_id -> Int8,
        category_id -> Int8,
        nomination_id -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        previous_nomination_id -> Nullable<Int8>,
    }
}

diesel::joinable!(applications -> projects (project_id));
diesel::joinable!(applications -> users (volunteer_id));
diesel::joinable!(award_categories -> awards (award_id));
diesel::joinable!(award_result_formulas -> awards (award_id));
diesel::joinable!(final_results -> award_categories (category_id));
diesel::joinable!(final_results -> nominations (nomination_id));
diesel::joinable!(judging_criteria -> awards (award_id));
diesel::joinable!(juror_categories -> award_categories (category_id));
diesel::joinable!(juror_categories -> jurors (juror_id));
diesel::joinable!(juror_conflicts -> jurors (juror_id));
diesel::joinable!(juror_conflicts -> nominations (nomination_id));
diesel::joinable!(jurors -> awards (award_id));
diesel::joinable!(jurors -> one_time_tokens (invitation_token_id));
diesel::joinable!(jury_criterion_scores -> judging_criteria (criterion_id));
diesel::joinable!(jury_criterion_scores -> jury_scores (score_id));
diesel::joinable!(jury_scores -> jurors (juror_id));
diesel::joinable!(jury_scores -> nominations (nomination_id));
diesel::joinable!(nominations -> award_categories (category_id));
diesel::joinable!(nominations -> organizations (organization_id));
diesel::joinable!(nominations -> projects (project_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(organization_managers -> organizations (organization_id));
diesel::joinable!(organization_managers -> users (user_id));
diesel::joinable!(outbox -> digest_runs (digest_run_id));
diesel::joinable!(post_views -> posts (post_id));
diesel::joinable!(posts -> organizations (organization_id));
diesel::joinable!(posts -> users (author_id));
diesel::joinable!(projects -> organizations (organization_id));
diesel::joinable!(result_snapshots -> awards (award_id));
diesel::joinable!(result_snapshots -> users (frozen_by));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(vote_events -> users (user_id));
diesel::joinable!(vote_quarantines -> award_categories (category_id));
diesel::joinable!(votes -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    applications,
    award_categories,
    award_result_formulas,
    awards,
    digest_runs,
    email_opt_outs,
    email_subscriptions,
    final_results,
    judging_criteria,
    juror_categories,
    juror_conflicts,
    jurors,
    jury_criterion_scores,
    jury_scores,
    network_memberships,
    nomination_counts,
    nominations,
    one_time_tokens,
    organization_managers,
    organizations,
    outbox,
    places,
    platform_counts,
    post_views,
    posts,
    project_facet_counts,
    projects,
    result_snapshots,
    search_words,
    sessions,
    suppressions,
    users,
    volunteer_accepted_counts,
    vote_count_deltas,
    vote_events,
    vote_quarantine_log,
    vote_quarantines,
    votes,
);
