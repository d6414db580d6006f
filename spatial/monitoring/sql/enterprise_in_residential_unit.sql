-- Enterprises registered in a residential unit of a purely residential building (住改商).
INSERT INTO monitor_hit
SELECT 'enterprise_in_residential_unit', 'enterprise:' || e.credit_code, e.building_id, 2,
       '住改商 business registered in a residential unit: ' || e.name || ', room ' || u.room_no,
       jsonb_build_object('house_unit_id', u.id, 'room_no', u.room_no, 'credit_code', e.credit_code,
                          'enterprise', e.name)
FROM onemap.enterprise e
JOIN onemap.house_unit u ON u.id = e.house_unit_id
JOIN onemap.building g ON g.id = e.building_id
WHERE e.status = 'active' AND u.use = 'residential' AND g.use = 'residential';
