-- routing_candidates: one row per (target, symbol), CS rows with symbol null — the candidates every routing
-- decision was made on. Built by int_candidates__routing_candidates; kept here as the public face for readers
-- and the export (which snapshots it to routing_candidates.parquet).
with

candidates as (

    select * from {{ ref('int_candidates__routing_candidates') }}

),

final as (

    select * exclude (leakage_unreadable_evidence)
    from candidates

)

select * from final
