-- One row per feature-importance snapshot: the stability scope it belongs to (lane, target, symbol), its
-- universe and signatures, and why it is left out of the comparisons (null when it takes part).
-- The aggregated method's snapshots form the target's cross-sectional scope (symbol null); the per-symbol
-- method's snapshots belong to the symbol whose cohort metadata.json has the same universe_sig, or whose name
-- is the universe_sig (the older form). Snapshots of other methods belong to no scope.
with

snapshots as (

    select * from {{ ref('stg_foxml__importance_snapshots') }}

),

cohort_metadata as (

    select * from {{ ref('stg_foxml__cohort_metadata') }}

),

cohort_metrics as (

    select * from {{ ref('stg_foxml__cohort_metrics') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

symbol_universes as (

    select distinct
        cohort_metrics.target,
        cohort_metrics.symbol,
        split_part(cohort_metadata.universe_sig, ':', 1) as universe_key
    from cohort_metadata
    inner join cohort_metrics
        on cohort_metadata.metrics_file = cohort_metrics.source_file
    where
        cohort_metrics.symbol is not null
        and cohort_metrics.target is not null
        and cohort_metadata.universe_sig is not null

    union

    select distinct
        target,
        symbol,
        symbol as universe_key
    from cohort_metrics
    where symbol is not null and target is not null

),

laned as (

    select
        snapshots.*,
        coalesce(split_part(snapshots.universe_sig, ':', 1), 'NO_UNIVERSE') as universe_key,
        case
            when snapshots.method = policy.stability_cs_method then 'cross_sectional'
            when snapshots.method = policy.stability_symbol_method then 'symbol'
        end as lane
    from snapshots
    cross join policy

),

scoped as (

    select
        laned.*,
        symbol_universes.symbol
    from laned
    -- Only symbol-lane snapshots look for a symbol. The lane test sits inside the equality (a condition on the
    -- left side alone would turn the hash join into a nested loop over every snapshot and symbol).
    left join symbol_universes
        on
            laned.target = symbol_universes.target
            and case when laned.lane = 'symbol' then laned.universe_key end = symbol_universes.universe_key

),

checked as (

    select
        *,
        concat_ws(
            ', ',
            case when dataset_signature is null then 'dataset' end,
            case when split_signature is null then 'split' end,
            case when target_signature is null then 'target' end,
            case when feature_signature is null then 'feature' end,
            case when hparams_signature is null then 'hparams' end,
            case when routing_signature is null then 'routing' end
        ) as missing_signatures
    from scoped

),

final as (

    select
        source_file as snapshot_file,
        target,
        lane,
        symbol,
        method,
        universe_sig,
        universe_key,
        created_at,
        dataset_signature,
        split_signature,
        target_signature,
        feature_signature,
        hparams_signature,
        routing_signature,
        concat_ws(
            '|',
            dataset_signature,
            split_signature,
            target_signature,
            feature_signature,
            hparams_signature,
            routing_signature
        ) as signature_set,
        replicate_key,
        train_seed,
        coalesce(
            is_valid_json
            and strict_json_problem is null
            and target is not null
            and (lane = 'cross_sectional' or symbol is not null),
            false
        ) as is_in_scope,
        case
            when not is_valid_json then 'not valid JSON'
            when strict_json_problem is not null then 'not strict JSON: ' || strict_json_problem
            when target is null then 'no target'
            when lane is null then 'method ' || coalesce(method, '(none)') || ' is not a stability method'
            when lane = 'symbol' and symbol is null
                then 'universe_sig ' || coalesce(universe_sig, '(none)') || ' matches no symbol of the target'
            when missing_signatures != '' then 'missing signatures: ' || missing_signatures
            when created_at is null then 'no created_at timestamp'
            when features is null then 'features is not a list of names'
        end as excluded_reason
    from checked

)

select * from final
