{#- Incremental models rebuild only the partitions (a scan number, a Slurm job id) whose inputs
    changed since the model's last build.

    A partition's inputs are fingerprinted as (how many raw rows feed it, the newest `_load_id`
    among them). Load ids only grow, so any insert raises the newest id and a delete alone lowers
    the count: the fingerprint changes whenever a row feeding the partition was added, replaced
    or deleted (a changed file's earlier rows are deleted by the loader). The fingerprint each
    incremental model last built from is kept per (model, partition) in the bookkeeping table
    `staging._incremental_partitions` (created by on-run-start, written only by the models'
    hooks, inside the model's own transaction), so the models and marts carry no bookkeeping
    columns and a partition that yields no rows (a job the filters drop) is not redone each run.
    Fingerprinting reads every raw row feeding the model, so a build does it twice, not once per
    hook: the compile-time query that picks the changed partitions, and the first pre-hook, which
    keeps the fingerprints in `staging._incremental_fingerprints` for the other hooks.

    An input is a dict: `relation`, `key` (SQL giving the partition key from its columns),
    optional `where`, and optional `rows` / `load_id` (SQL; default 1 and `_load_id`) for an input
    that is itself a fingerprint (the state rows of an upstream incremental model). -#}

{% macro incremental_state_relation() -%}
    staging._incremental_partitions
{%- endmacro %}

{#- The fingerprints of the build under way, per model (rewritten by each build's first
    pre-hook). -#}
{% macro current_fingerprints_relation() -%}
    staging._incremental_fingerprints
{%- endmacro %}

{#- on-run-start: the two bookkeeping tables (fingerprints per model and partition), if
    missing. -#}
{% macro create_incremental_state() -%}
    create schema if not exists staging;
    {%- for relation in [
        turnaround.incremental_state_relation(), turnaround.current_fingerprints_relation()
    ] %}
    create table if not exists {{ relation }} (
        model_name varchar not null,
        partition_key varchar not null,
        input_rows bigint not null,
        input_load_id bigint not null
    );
    {%- endfor %}
{%- endmacro %}

{#- The current fingerprint of every partition: partition_key (text), input_rows,
    input_load_id. -#}
{% macro partition_fingerprints(inputs) -%}
    select
        partition_key,
        cast(sum(input_rows) as {{ dbt.type_bigint() }}) as input_rows,
        cast(max(input_load_id) as {{ dbt.type_bigint() }}) as input_load_id
    from (
        {%- for input in inputs %}
        select
            cast({{ input.key }} as {{ dbt.type_string() }}) as partition_key,
            {{ input.get('rows', 1) }} as input_rows,
            {{ input.get('load_id', '_load_id') }} as input_load_id
        from {{ input.relation }}
        {%- if input.get('where') %}
        where {{ input.where }}
        {%- endif %}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as inputs
    where partition_key is not null
    group by partition_key
{%- endmacro %}

{#- The state rows of a model (default: the one being built): from its last build, or (from
    `relation` current_fingerprints_relation) those the first pre-hook kept for this build. -#}
{% macro recorded_partitions(model_name=none, relation=none) -%}
    select
        partition_key,
        input_rows,
        input_load_id
    from {{ relation or turnaround.incremental_state_relation() }}
    where model_name = '{{ model_name or this.identifier }}'
{%- endmacro %}

{% macro current_partitions() -%}
    {{ turnaround.recorded_partitions(relation=turnaround.current_fingerprints_relation()) }}
{%- endmacro %}

{#- An upstream incremental model as an input: the fingerprints it last built from. -#}
{% macro upstream_partitions_input(model_name, key='partition_key') -%}
    {{ return({
        'relation': '(' ~ turnaround.recorded_partitions(model_name) ~ ') as upstream',
        'key': key,
        'rows': 'input_rows',
        'load_id': 'input_load_id',
    }) }}
{%- endmacro %}

{#- Two fingerprint rows (aliases `seen` and `current_inputs`) of the same partition agree. -#}
{% macro fingerprints_match() -%}
    seen.partition_key = current_inputs.partition_key
    and seen.input_rows = current_inputs.input_rows
    and seen.input_load_id = current_inputs.input_load_id
{%- endmacro %}

{#- Keys of the partitions whose current fingerprint (`current`: SQL giving them) differs from
    the one recorded at the model's last build (new partitions included). -#}
{% macro changed_partitions(current) -%}
    select current_inputs.partition_key
    from ({{ current }}) as current_inputs
    where not exists (
        select 1
        from ({{ turnaround.recorded_partitions() }}) as seen
        where {{ turnaround.fingerprints_match() }}
    )
{%- endmacro %}

{#- A condition on `column` for the model's input CTEs: `true` on a full build; on an incremental
    one, the changed partitions as literals (DuckDB pushes them into the scans and windows of
    the inputs, staging tables or views), or, when there are very many, as a subquery on the
    fingerprints the first pre-hook kept (it runs before the model's SQL). -#}
{% macro changed_partitions_condition(column, inputs, key_is_number=false) -%}
    {%- if not is_incremental() -%}
        true
    {%- else -%}
        {%- set max_literals = env_var('TURNAROUND_MAX_LITERALS', '20000') | int -%}
        {%- set changed_sql = turnaround.changed_partitions(turnaround.partition_fingerprints(inputs)) -%}
        {#- at most one key over the limit: agate, which holds the result, costs microseconds a cell -#}
        {%- set changed = run_query(changed_sql ~ " limit " ~ (max_literals + 1)) -%}
        {%- set keys = changed.columns[0].values() -%}
        {%- if keys | length == 0 -%}
            false
        {%- elif keys | length > max_literals -%}
            cast({{ column }} as {{ dbt.type_string() }}) in (
                {{ turnaround.changed_partitions(turnaround.current_partitions()) }}
            )
        {%- else -%}
            {{ column }} in (
            {%- for key in keys -%}
                {{ key if key_is_number else turnaround.sql_string(key) }}{{ ', ' if not loop.last }}
            {%- endfor -%}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- First pre-hook (every build): keep the current fingerprints for the other hooks. -#}
{% macro keep_current_fingerprints(inputs) -%}
    delete from {{ turnaround.current_fingerprints_relation() }}
    where model_name = '{{ this.identifier }}';
    insert into {{ turnaround.current_fingerprints_relation() }}
        (model_name, partition_key, input_rows, input_load_id)
    select '{{ this.identifier }}', current_inputs.*
    from ({{ turnaround.partition_fingerprints(inputs) }}) as current_inputs
{%- endmacro %}

{#- Second pre-hook: on an incremental build, delete the rows of every changed partition and of
    every partition whose inputs are gone; the model then inserts the changed partitions again. -#}
{% macro delete_changed_partitions(column) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        cast({{ column }} as {{ dbt.type_string() }}) in (
            {{ turnaround.changed_partitions(turnaround.current_partitions()) }}
        )
        or cast({{ column }} as {{ dbt.type_string() }}) not in (
            select partition_key from ({{ turnaround.current_partitions() }}) as current_inputs
        )
    {%- endif -%}
{%- endmacro %}

{#- post-hooks: record the fingerprints the model now reflects (drop the stale ones, add the
    missing ones; on a full build too). -#}
{% macro forget_stale_partitions() -%}
    delete from {{ turnaround.incremental_state_relation() }} as seen
    where
        seen.model_name = '{{ this.identifier }}'
        and not exists (
            select 1
            from ({{ turnaround.current_partitions() }}) as current_inputs
            where {{ turnaround.fingerprints_match() }}
        )
{%- endmacro %}

{% macro record_partitions() -%}
    insert into {{ turnaround.incremental_state_relation() }}
        (model_name, partition_key, input_rows, input_load_id)
    select
        '{{ this.identifier }}',
        current_inputs.partition_key,
        current_inputs.input_rows,
        current_inputs.input_load_id
    from ({{ turnaround.current_partitions() }}) as current_inputs
    where not exists (
        select 1
        from ({{ turnaround.recorded_partitions() }}) as seen
        where seen.partition_key = current_inputs.partition_key
    )
{%- endmacro %}

{#- The inputs of each incremental model's partitions. -#}

{#- int_receiver_scans_summarised: a scan number's receiver statuses. -#}
{% macro receiver_scan_inputs() -%}
    {{ return([
        {'relation': source('raw', 'rec_status'),
         'key': 'cast(scan_number as ' ~ dbt.type_int() ~ ')'},
    ]) }}
{%- endmacro %}

{#- int_acquisitions_joined_to_files: a scan number's acquisitions (as the upstream model last
    built them), data files and counted files. -#}
{% macro acquisition_file_inputs() -%}
    {{ return([
        turnaround.upstream_partitions_input('int_receiver_scans_summarised'),
        {'relation': source('raw', 'ncem_data_files'),
         'key': 'cast(scan_number as ' ~ dbt.type_int() ~ ')'},
        {'relation': source('raw', 'nersc_counted_files'),
         'key': 'cast(scan_number as ' ~ dbt.type_int() ~ ')'},
    ]) }}
{%- endmacro %}

{#- int_count_jobs_filtered: a Slurm job's sacct lines (steps excluded, as in staging). -#}
{% macro count_job_inputs() -%}
    {{ return([
        {'relation': source('raw', 'slurm'), 'key': 'job_id', 'where': "job_id not like '%.%'"},
    ]) }}
{%- endmacro %}
