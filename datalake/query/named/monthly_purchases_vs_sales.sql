-- Monthly purchases (COMPRA) versus sales (VENTA) by energy type, in kWh and COP.
SELECT
    date_trunc('month', fecha_transaccion) AS mes,
    tipo_energia,
    sum(CASE WHEN tipo_transaccion = 'COMPRA' THEN cantidad_comprada_kwh ELSE 0 END) AS compras_kwh,
    sum(CASE WHEN tipo_transaccion = 'VENTA' THEN cantidad_comprada_kwh ELSE 0 END) AS ventas_kwh,
    sum(CASE WHEN tipo_transaccion = 'COMPRA' THEN precio_total_cop ELSE 0 END) AS compras_cop,
    sum(CASE WHEN tipo_transaccion = 'VENTA' THEN precio_total_cop ELSE 0 END) AS ventas_cop
FROM transacciones
GROUP BY date_trunc('month', fecha_transaccion), tipo_energia
ORDER BY mes, tipo_energia
