-- The snapshots each comparable scope compares: those that passed the replicate filter, in the kept universe
-- group, numbered in created_at order (ties by file) so that snapshot_seq n is compared with n + 1 only.
-- ranked_features is the feature list without null or repeated names (a repeated name keeps its first, higher
-- position); n_top_k counts the distinct names among the first top_k entries of the list as written, which are
-- exactly the first n_top_k entries of ranked_features.
with

scopes as (

    select * from {{ ref('int_stability__scopes') }}
    where scope_status = 'compared'

),

snapshots as (

    select * from {{ ref('int_stability__snapshots') }}
    where is_in_scope and excluded_reason is null

),

policy as (

    select * from {{ ref('routing_policy') }}

),

final as (

    select
        scopes.scope_id,
        scopes.target,
        scopes.symbol,
        snapshots.snapshot_file,
        snapshots.created_at,
        row_number() over (
            partition by scopes.scope_id
            order by snapshots.created_at, snapshots.snapshot_file
        ) as snapshot_seq,
        {{ list_first_occurrences('snapshots.features') }} as ranked_features,
        {{ list_head_distinct_count('snapshots.features', 'policy.stability_top_k') }} as n_top_k
    from scopes
    inner join snapshots
        on
            scopes.target = snapshots.target
            and scopes.symbol is not distinct from snapshots.symbol
            and scopes.universe_key = snapshots.universe_key
    cross join policy

)

select * from final
