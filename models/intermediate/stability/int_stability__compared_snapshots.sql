-- The snapshots each comparable scope compares: those that passed the replicate filter, in the kept universe
-- group, numbered in created_at order (ties by file) so that snapshot_seq n is compared with n + 1 only.
-- snapshot_id numbers them across all scopes in (scope_id, snapshot_seq) order; next_snapshot_id is the one
-- each is compared with (null for the last of its scope).
with

scopes as (

    select * from {{ ref('int_stability__scopes') }}
    where scope_status = 'compared'

),

snapshots as (

    select * from {{ ref('int_stability__snapshots') }}
    where is_in_scope and excluded_reason is null

),

sequenced as (

    select
        scopes.scope_id,
        scopes.target,
        scopes.symbol,
        snapshots.snapshot_file,
        snapshots.created_at,
        row_number() over (
            partition by scopes.scope_id
            order by snapshots.created_at, snapshots.snapshot_file
        ) as snapshot_seq
    from scopes
    inner join snapshots
        on
            {{ same_scope('scopes', 'snapshots') }}
            and scopes.universe_key = snapshots.universe_key

),

numbered as (

    select
        *,
        cast(row_number() over (order by scope_id, snapshot_seq) as integer) as snapshot_id
    from sequenced

),

final as (

    select
        *,
        lead(snapshot_id) over (partition by scope_id order by snapshot_seq) as next_snapshot_id
    from numbered

)

select * from final
