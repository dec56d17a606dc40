-- One row per adjacent snapshot pair of a scope (snapshot_seq n - 1 and n): the Jaccard overlap of their top-K
-- feature names (both empty: 1.0) and Kendall's tau-b between the rank positions of the features common to both
-- full lists (null with fewer than 3 common features). Positions are unique within a list, so tau-b has no ties:
-- tau = 1 - 4 * discordant pairs / (n * (n - 1)), the discordant pairs counted in O(n log n) per pair.
with

snapshots as (

    select * from {{ ref('int_stability__compared_snapshots') }}

),

features as (

    select * from {{ ref('int_stability__snapshot_features') }}

),

pairs as (

    select
        later.scope_id,
        later.target,
        later.symbol,
        later.snapshot_seq as pair_seq,
        earlier.snapshot_file as earlier_snapshot_file,
        later.snapshot_file as later_snapshot_file,
        earlier.n_top_k as earlier_n_top_k,
        later.n_top_k as later_n_top_k,
        {{ list_head_intersection_size(
            'earlier.ranked_features', 'earlier.n_top_k', 'later.ranked_features', 'later.n_top_k'
        ) }} as n_common_top_k
    from snapshots as earlier
    inner join snapshots as later
        on
            earlier.scope_id = later.scope_id
            and later.snapshot_seq = earlier.snapshot_seq + 1

),

common_features as (

    select
        later.scope_id,
        later.snapshot_seq as pair_seq,
        earlier.feature_rank as earlier_rank,
        later.feature_rank as later_rank
    from features as earlier
    inner join features as later
        on
            earlier.scope_id = later.scope_id
            and later.snapshot_seq = earlier.snapshot_seq + 1
            and earlier.feature_name = later.feature_name

),

discordance as (

    {{ discordant_pair_counts('common_features', ['scope_id', 'pair_seq'], 'earlier_rank', 'later_rank') }}

),

counted as (

    select
        pairs.*,
        coalesce(discordance.n_items, 0) as n_common_features,
        coalesce(discordance.n_discordant, 0) as n_discordant_pairs
    from pairs
    left join discordance
        on
            pairs.scope_id = discordance.scope_id
            and pairs.pair_seq = discordance.pair_seq

),

final as (

    select
        *,
        earlier_n_top_k + later_n_top_k - n_common_top_k as n_union_top_k,
        case
            when earlier_n_top_k + later_n_top_k - n_common_top_k = 0 then 1.0
            else n_common_top_k::double / (earlier_n_top_k + later_n_top_k - n_common_top_k)
        end as overlap,
        case
            when n_common_features >= 3
                then 1.0 - 4.0 * n_discordant_pairs / (n_common_features * (n_common_features - 1.0))
        end as tau
    from counted

)

select * from final
