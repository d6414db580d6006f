-- Economic potential per building: commercial, industrial and office floor space against the active enterprises
-- registered there. Space beyond what the registered enterprises plausibly use (120 m2 each) is potential: empty
-- or unregistered business space worth a visit from investment promotion or market supervision.
-- Each building's sums are read by index (lateral), so a filter on the building (a grid, a bbox, a tile) reads
-- only its buildings: a grid in milliseconds instead of the district's 2.9M units; the whole district takes
-- about three times as long as one pass over all units would.
CREATE OR REPLACE VIEW onemap.economic_potential AS
SELECT g.id, g.code, g.address, g.use, g.street_code, g.community_code, g.grid_code,
       round(s.business_m2::numeric, 1)::double precision AS business_m2,
       e.active::integer AS enterprises,
       round(greatest(s.business_m2 - e.active * 120.0, 0)::numeric, 1)::double precision AS potential_m2,
       g.valid_from, g.geom
FROM onemap.building g
CROSS JOIN LATERAL (SELECT sum(area_m2) AS business_m2 FROM onemap.house_unit
                    WHERE building_id = g.id AND use IN ('commercial', 'industrial', 'office')) s
CROSS JOIN LATERAL (SELECT count(*) AS active FROM onemap.enterprise
                    WHERE building_id = g.id AND status = 'active') e
WHERE s.business_m2 IS NOT NULL;
