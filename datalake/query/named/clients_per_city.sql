-- Clients per city (energy_processed_db).
SELECT ciudad, count(*) AS clientes
FROM clientes
GROUP BY ciudad
ORDER BY clientes DESC, ciudad
