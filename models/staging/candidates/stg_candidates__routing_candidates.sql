-- One row per row of a ready routing_candidates.parquet (FoxML's format), keys cast to trainplan's types. Its
-- all-null columns are null-typed in the file and model_status exists only when a symbol row does. A file whose
-- columns have the reference's types is read column by column; any other is read row by row as JSON documents,
-- every key cast explicitly. Both readers give the same rows (macros/candidates_reader.sql).
with

renamed as (

    {{ candidates_rows(input_source('candidates', 'routing_candidates_parquet'), candidates_file()) }}

)

select * from renamed
