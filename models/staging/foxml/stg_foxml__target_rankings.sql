-- One row per data line of globals/target_predictability_rankings.csv: FoxML's cross-sectional
-- target-ranking summary, whose leakage_flag is per target. The file is read as bytes and split into lines here, so
-- that one line that is not CSV (an unterminated quote, a wrong number of fields) is one rejected row while the
-- other rows still count; a file that is not UTF-8 is one row with a null source_row. Each line keeps its raw text
-- and `line_target`, the target column of a naive comma split, which ties an unreadable line to its target when it
-- can (int_leakage__unreadable_evidence). A readable row's fields are a JSON document keyed by the header names;
-- an empty unquoted field is null (as DuckDB's CSV reader gives it).
with

source as (

    select * from {{ run_dir_input('foxml', 'target_rankings_csv') }}

),

decoded as (

    select
        filename as source_file,
        {{ utf8_text('content') }} as file_text
    from source

),

split as (

    select
        source_file,
        string_split(replace(regexp_replace(file_text, '^\x{FEFF}', ''), chr(13), ''), chr(10)) as file_lines
    from decoded
    where file_text is not null

),

lines as (

    select
        source_file,
        unnest(file_lines) as raw_line,
        generate_subscripts(file_lines, 1) as line_number
    from split

),

headers as (

    select
        source_file,
        {{ csv_line_parses('raw_line') }} as header_parses,
        list_transform({{ csv_line_fields('raw_line') }}, name -> trim(name)) as header_names
    from lines
    where line_number = 1

),

data_lines as (

    select
        lines.source_file,
        row_number() over (partition by lines.source_file order by lines.line_number) as source_row,
        lines.raw_line,
        {{ csv_line_parses('lines.raw_line') }} as row_parses,
        {{ csv_line_fields('lines.raw_line') }} as fields,
        headers.header_parses
        and len(headers.header_names) = len(list_distinct(headers.header_names))
        and not list_contains(headers.header_names, '') as is_header_valid,
        headers.header_names
    from lines
    inner join headers
        on lines.source_file = headers.source_file
    where lines.line_number > 1 and trim(lines.raw_line) != ''

),

parsed as (

    select
        source_file,
        source_row,
        raw_line,
        true as is_valid_utf8,
        is_header_valid,
        row_parses,
        len(fields) as n_fields,
        len(header_names) as n_header_fields,
        nullif(
            trim(string_split(raw_line, ',')[list_position(header_names, 'target')], ' "'), ''
        ) as line_target,
        case
            when is_header_valid and row_parses and len(fields) = len(header_names)
                then to_json(map(header_names, list_transform(fields, field -> {{ csv_field_value('field') }})))
        end as doc
    from data_lines

),

unreadable_files as (

    select
        source_file,
        null::bigint as source_row,
        null::varchar as raw_line,
        false as is_valid_utf8,
        false as is_header_valid,
        false as row_parses,
        null::bigint as n_fields,
        null::bigint as n_header_fields,
        null::varchar as line_target,
        null::json as doc
    from decoded
    where file_text is null

),

rows_read as (

    select * from parsed
    union all
    select * from unreadable_files

),

renamed as (

    select
        source_file,
        source_row,
        raw_line,
        is_valid_utf8,
        is_header_valid,
        row_parses,
        doc is not null as is_row_readable,
        n_fields,
        n_header_fields,
        line_target,
        nullif(trim(doc ->> '$.target'), '') as target,
        try_cast(doc ->> '$.rank' as integer) as ranking,
        upper(nullif(trim(doc ->> '$.task_type'), '')) as task_type,
        try_cast(doc ->> '$.auc' as double) as auc,
        try_cast(doc ->> '$.composite_score' as double) as composite_score,
        doc ->> '$.leakage_flag' is not null as has_leakage_flag_column,
        upper(nullif(trim(doc ->> '$.leakage_flag'), '')) as leakage_flag,
        nullif(trim(doc ->> '$.recommendation'), '') as recommendation
    from rows_read

)

select * from renamed
