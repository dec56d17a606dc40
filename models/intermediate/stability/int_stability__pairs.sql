-- One row per adjacent snapshot pair of a scope (snapshot_seq n - 1 and n): the Jaccard overlap of their top-K
-- feature names (both empty: 1.0) and Kendall's tau-b between the rank positions of the features common to both
-- full lists (null with fewer than 3 common features). Positions are unique within a list, so tau-b has no ties:
-- tau = 1 - 4 * discordant pairs / (n * (n - 1)), the discordant pairs counted in O(n log n) per pair.
with

compared as (

    select * from {{ ref('int_stability__compared_snapshots') }}

),

features as (

    select * from {{ ref('int_stability__snapshot_features') }}

),

top_k_sizes as (

    select
        snapshot_id,
        sum(case when is_top_k then 1 else 0 end) as n_top_k
    from features
    group by snapshot_id

),

pairs as (

    select
        later.scope_id,
        later.target,
        later.symbol,
        later.snapshot_seq as pair_seq,
        later.snapshot_id as later_snapshot_id,
        earlier.snapshot_file as earlier_snapshot_file,
        later.snapshot_file as later_snapshot_file,
        coalesce(earlier_top_k.n_top_k, 0) as earlier_n_top_k,
        coalesce(later_top_k.n_top_k, 0) as later_n_top_k
    from compared as earlier
    inner join compared as later
        on earlier.next_snapshot_id = later.snapshot_id
    left join top_k_sizes as earlier_top_k
        on earlier.snapshot_id = earlier_top_k.snapshot_id
    left join top_k_sizes as later_top_k
        on later.snapshot_id = later_top_k.snapshot_id

),

-- a scope's last snapshot has no next one, so its features match nothing: left out before the join, they are not
-- held in its hash table either (M: 8 of 10 million rows; the model's peak 0.85 GB instead of 1.0 GB)
features_with_next as (

    select *
    from features
    where next_snapshot_id is not null

),

common_features as (

    select
        later.snapshot_id as later_snapshot_id,
        earlier.feature_position as earlier_rank,
        later.feature_position as later_rank,
        case when earlier.is_top_k and later.is_top_k then 1 else 0 end as in_both_top_k
    from features_with_next as earlier
    inner join features as later
        on
            earlier.next_snapshot_id = later.snapshot_id
            and earlier.feature_id = later.feature_id

),

discordance as (

    {{ discordant_pair_counts(
        'common_features', ['later_snapshot_id'], 'earlier_rank', 'later_rank',
        {'n_common_top_k': 'sum(in_both_top_k)'}
    ) }}

),

counted as (

    select
        pairs.*,
        coalesce(discordance.n_items, 0) as n_common_features,
        coalesce(discordance.n_discordant, 0) as n_discordant_pairs,
        coalesce(discordance.n_common_top_k, 0) as n_common_top_k
    from pairs
    left join discordance
        on pairs.later_snapshot_id = discordance.later_snapshot_id

),

final as (

    select
        scope_id,
        target,
        symbol,
        pair_seq,
        earlier_snapshot_file,
        later_snapshot_file,
        earlier_n_top_k,
        later_n_top_k,
        n_common_top_k,
        n_common_features,
        n_discordant_pairs,
        earlier_n_top_k + later_n_top_k - n_common_top_k as n_union_top_k,
        case
            when earlier_n_top_k + later_n_top_k - n_common_top_k = 0 then 1.0
            else cast(n_common_top_k as double) / (earlier_n_top_k + later_n_top_k - n_common_top_k)
        end as overlap,
        case
            when n_common_features >= 3
                then 1.0 - 4.0 * n_discordant_pairs / (n_common_features * (n_common_features - 1.0))
        end as tau
    from counted

)

select * from final
