-- One row per (compared snapshot, distinct feature name): the feature's rank position (1 = most important; a
-- repeated name keeps its first position, null names are dropped) and whether it is in the snapshot's top K.
with

snapshots as (

    select * from {{ ref('int_stability__compared_snapshots') }}

),

listed as (

    select
        scope_id,
        snapshot_seq,
        n_top_k,
        {{ list_elements('ranked_features', 'feature_name', 'feature_rank') }}
    from snapshots

),

final as (

    select
        scope_id,
        snapshot_seq,
        feature_name,
        feature_rank,
        feature_rank <= n_top_k as is_top_k
    from listed

)

select * from final
