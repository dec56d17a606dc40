-- One row per stability scope (target, symbol; symbol null = cross-sectional) that has snapshot files:
-- the replicate filter (snapshots missing a signature are left out; disagreeing signatures make the scope
-- invalid), the universe filter (the largest universe group is kept; on a tie the one seen first in time),
-- and whether the scope has enough snapshots to be compared.
with

snapshots as (

    select * from {{ ref('int_stability__snapshots') }}
    where is_in_scope

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

usable as (

    select
        *,
        row_number() over (
            partition by target, symbol
            order by created_at, snapshot_file
        ) as time_order
    from snapshots
    where excluded_reason is null

),

replicate_groups as (

    select
        target,
        symbol,
        count(*) as n_complete,
        count(distinct signature_set) as n_signature_sets,
        concat_ws(
            ', ',
            case when count(distinct dataset_signature) > 1 then 'dataset' end,
            case when count(distinct split_signature) > 1 then 'split' end,
            case when count(distinct target_signature) > 1 then 'target' end,
            case when count(distinct feature_signature) > 1 then 'feature' end,
            case when count(distinct hparams_signature) > 1 then 'hparams' end,
            case when count(distinct routing_signature) > 1 then 'routing' end
        ) as differing_signatures
    from usable
    group by target, symbol

),

universe_groups as (

    select
        target,
        symbol,
        universe_key,
        count(*) as n_in_universe,
        row_number() over (
            partition by target, symbol
            order by count(*) desc, min(time_order) asc
        ) as universe_rank
    from usable
    group by target, symbol, universe_key

),

files as (

    select
        target,
        symbol,
        max(lane) as lane,
        count(*) as n_snapshot_files,
        string_agg(distinct excluded_reason, '; ' order by excluded_reason) as excluded_reasons
    from snapshots
    group by target, symbol

),

joined as (

    select
        files.target,
        files.symbol,
        files.lane,
        files.n_snapshot_files,
        coalesce(replicate_groups.n_complete, 0) as n_complete,
        coalesce(replicate_groups.n_signature_sets, 0) as n_signature_sets,
        replicate_groups.differing_signatures,
        universe_groups.universe_key,
        coalesce(universe_groups.n_in_universe, 0) as n_in_universe,
        files.excluded_reasons,
        greatest(policy.min_snapshots_for_stability, 2) as min_snapshots
    from files
    cross join policy
    left join replicate_groups
        on {{ same_scope('files', 'replicate_groups') }}
    left join universe_groups
        on
            {{ same_scope('files', 'universe_groups') }}
            and universe_groups.universe_rank = 1

),

final as (

    select
        row_number() over (order by target, symbol nulls first) as scope_id,
        target,
        symbol,
        lane,
        n_snapshot_files,
        n_complete,
        n_signature_sets,
        universe_key,
        case when n_signature_sets > 1 then n_complete else n_in_universe end as n_snapshots,
        case
            when n_complete = 0 then 'no snapshots'
            when n_complete < 2 then 'insufficient snapshots'
            when n_signature_sets > 1 then 'invalid signatures'
            when n_in_universe < min_snapshots then 'insufficient snapshots'
            else 'compared'
        end as scope_status,
        case
            when n_complete = 0
                then 'none of the ' || n_snapshot_files || ' snapshots can be compared: ' || excluded_reasons
            when n_complete < 2
                then n_complete || ' comparable snapshot; at least 2 are needed'
            when n_signature_sets > 1
                then 'signatures differ within the replicate group: ' || differing_signatures
            when n_in_universe < min_snapshots
                then n_in_universe || ' snapshots in universe ' || universe_key
                    || '; min_snapshots_for_stability needs ' || min_snapshots
            else n_in_universe || ' snapshots in universe ' || universe_key
        end
        || case
            when n_complete < n_snapshot_files and n_complete > 0
                then ' (' || (n_snapshot_files - n_complete) || ' left out: ' || excluded_reasons || ')'
            else ''
        end
        || case
            when n_signature_sets = 1 and n_in_universe < n_complete
                then ' (' || (n_complete - n_in_universe) || ' in smaller universe groups left out)'
            else ''
        end as scope_detail
    from joined

)

select * from final
