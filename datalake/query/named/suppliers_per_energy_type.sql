-- Suppliers per energy type (energy_processed_db).
SELECT tipo_energia, count(*) AS proveedores
FROM proveedores
GROUP BY tipo_energia
ORDER BY proveedores DESC, tipo_energia
