-- One row per row of a ready routing_candidates.parquet (FoxML's format), keys cast to trainplan's types. Its
-- all-null columns are null-typed in the file and model_status exists only when a symbol row does. A file whose
-- columns have the reference's types is read column by column; any other is read row by row as JSON documents,
-- every key cast explicitly. Both readers give the same rows (macros/candidates_reader.sql). The source is read
-- inside the reader's macro, not in an import CTE: which reader applies depends on the file's column types.
-- source_row is the row's position in the file (file_row_number + 1).
with

renamed as (

    {{ candidates_rows(input_source('candidates', 'routing_candidates_parquet'), candidates_file()) }}

)

select * from renamed
