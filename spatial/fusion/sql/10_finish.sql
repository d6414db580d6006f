-- The run has read every record up to its high-water mark: the next run starts above it.
UPDATE onemap.fusion_run SET last_record_id = %(upto)s WHERE id = %(run_id)s;
