-- Economic potential per building: commercial, industrial and office floor space against the active enterprises
-- registered there. Space beyond what the registered enterprises plausibly use (120 m2 each) is potential: empty
-- or unregistered business space worth a visit from investment promotion or market supervision.
CREATE OR REPLACE VIEW onemap.economic_potential AS
SELECT g.id, g.code, g.address, g.use, g.street_code, g.community_code, g.grid_code,
       round(s.business_m2::numeric, 1)::double precision AS business_m2,
       coalesce(e.active, 0)::integer AS enterprises,
       round(greatest(s.business_m2 - coalesce(e.active, 0) * 120.0, 0)::numeric, 1)::double precision
           AS potential_m2,
       g.valid_from, g.geom
FROM onemap.building g
JOIN (SELECT building_id, sum(area_m2) AS business_m2 FROM onemap.house_unit
      WHERE use IN ('commercial', 'industrial', 'office') GROUP BY building_id) s ON s.building_id = g.id
LEFT JOIN (SELECT building_id, count(*) AS active FROM onemap.enterprise
           WHERE status = 'active' GROUP BY building_id) e ON e.building_id = g.id;
