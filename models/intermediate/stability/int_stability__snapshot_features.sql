-- One row per (compared snapshot, distinct feature name): the feature's integer id, its position in the list as
-- written (1 = most important; a repeated name keeps its first position, null names are dropped) and whether
-- that position is within the policy's top K. Names become integer ids here so that the pair comparisons join
-- and sort integers; repeated names are rare (a writer sorts a dict), so only the snapshots that have them
-- take the slower de-duplicating path.
with

compared as (

    select * from {{ ref('int_stability__compared_snapshots') }}

),

snapshots as (

    select * from {{ ref('stg_foxml__importance_snapshots') }}

),

policy as (

    select * from {{ ref('stg_policy__settings') }}

),

listed as (

    select
        compared.snapshot_id,
        compared.next_snapshot_id,
        {{ list_elements('snapshots.features', 'feature_name', 'feature_position') }}
    from compared
    inner join snapshots
        on compared.snapshot_file = snapshots.source_file

),

feature_names as (

    select distinct feature_name
    from listed
    where feature_name is not null

),

feature_ids as (

    select
        feature_name,
        cast(row_number() over (order by feature_name) as integer) as feature_id
    from feature_names

),


coded as (

    select
        listed.snapshot_id,
        listed.next_snapshot_id,
        feature_ids.feature_id,
        cast(listed.feature_position as integer) as feature_position
    from listed
    inner join feature_ids
        on listed.feature_name = feature_ids.feature_name

),

repeating as (

    {{ keys_with_repeated_values('coded', 'snapshot_id', 'feature_id') }}

),

first_occurrences as (

    select
        snapshot_id,
        next_snapshot_id,
        feature_id,
        feature_position
    from coded
    where snapshot_id not in (select repeating.snapshot_id from repeating)

    union all

    select
        snapshot_id,
        next_snapshot_id,
        feature_id,
        min(feature_position) as feature_position
    from coded
    where snapshot_id in (select repeating.snapshot_id from repeating)
    group by snapshot_id, next_snapshot_id, feature_id

),

final as (

    select
        first_occurrences.snapshot_id,
        first_occurrences.next_snapshot_id,
        first_occurrences.feature_id,
        first_occurrences.feature_position,
        first_occurrences.feature_position <= policy.stability_top_k as is_top_k
    from first_occurrences
    cross join policy

)

select * from final
