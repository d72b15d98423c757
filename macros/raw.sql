{#- The raw tables the staging models read (source `raw`), called by on-run-start. On DuckDB the
    loaders write them into the warehouse: nothing to do. On Spark each is a view of
    `<folder>/<table>.parquet` (DuckDB's raw.<table> exported as is), the absolute folder
    the environment's TURNAROUND_SPARK_RAW_DIR names (`turnaround` sets it): a view of the
    metastore, not a temporary one, so every session and thread sees it (and commands that run
    no hooks, such as `dbt docs generate`, see the last build's). Spark runs one statement per
    call. -#}
{% macro register_raw() -%}
    {{ return(adapter.dispatch('register_raw', 'turnaround')()) }}
{%- endmacro %}

{% macro duckdb__register_raw() -%}
{%- endmacro %}

{% macro spark__register_raw() -%}
    {%- if execute -%}
        {%- set folder = env_var('TURNAROUND_SPARK_RAW_DIR', '') | string | trim -%}
        {%- if not folder -%}
            {{ exceptions.raise_compiler_error(
                "TURNAROUND_SPARK_RAW_DIR is not set: on Spark it names the folder of the raw"
                ~ " tables exported as Parquet (<folder>/<table>.parquet); `turnaround build`"
                ~ " exports them and sets it"
            ) }}
        {%- endif -%}
        {%- set schemas = [] -%}
        {%- for source in graph.sources.values()
            if source.package_name == project_name and source.source_name == 'raw' -%}
            {%- if source.schema not in schemas -%}
                {%- do run_query('create database if not exists ' ~ source.schema) -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
            {%- do run_query(
                'create or replace view ' ~ source.schema ~ '.' ~ source.identifier
                ~ ' as select * from parquet.`' ~ folder.rstrip('/') ~ '/' ~ source.identifier
                ~ '.parquet`'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
