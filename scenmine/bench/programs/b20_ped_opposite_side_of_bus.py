description = 'vehicle on the other side of the road from a bus'
vehicles = get_objects_of_category(log_dir, category='REGULAR_VEHICLE')
buses = get_objects_of_category(log_dir, category='BUS')
result = on_relative_side_of_road(vehicles, buses, log_dir, side='opposite')
output_scenario(result, description, log_dir, output_dir)
