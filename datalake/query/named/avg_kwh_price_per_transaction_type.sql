-- Average quantity and unit price per transaction type (COMPRA / VENTA).
SELECT
    tipo_transaccion,
    count(*) AS transacciones,
    avg(cantidad_comprada_kwh) AS promedio_kwh,
    avg(precio_kwh_cop) AS promedio_precio_kwh_cop,
    sum(precio_total_cop) AS total_cop
FROM transacciones
GROUP BY tipo_transaccion
ORDER BY tipo_transaccion
